// ICUDataOverride declares nothing: its one source, ICUData.S, defines ICU's data symbol in the container build
// (see there), which ICU inside Foundation reads by name.
