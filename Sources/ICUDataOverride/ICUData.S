// ICU's data in place of the copy Foundation's static library brings, for the container image only.
//
// Empty unless the build defines COMMERCEML_ICU_DATA_FILE (a quoted path) and COMMERCEML_ICU_DATA_SYMBOL (the
// symbol ICU reads its data from, e.g. icudt76_dat), as `Scripts/container.sh build` does with the package that
// `Scripts/container-icu-data.py` trims from the toolchain's. The executable's objects are linked before the static
// libraries, so this definition is found first and the library's 34 MB member is never pulled in.
#if defined(COMMERCEML_ICU_DATA_FILE) && defined(COMMERCEML_ICU_DATA_SYMBOL)
  .section .rodata.commerceml_icu_data, "a", @progbits
  .globl COMMERCEML_ICU_DATA_SYMBOL
  .type COMMERCEML_ICU_DATA_SYMBOL, @object
  .balign 16
COMMERCEML_ICU_DATA_SYMBOL:
  .incbin COMMERCEML_ICU_DATA_FILE
  .size COMMERCEML_ICU_DATA_SYMBOL, . - COMMERCEML_ICU_DATA_SYMBOL
#endif
  .section .note.GNU-stack, "", @progbits
