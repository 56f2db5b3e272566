import Foundation
import TabularIO

/// The logical input fields, required and optional.
public enum TransactionFields {
  public static let required = ["transaction_id", "timestamp", "card", "amount"]
  public static let optional = ["merchant", "merchant_category", "country", "lat", "lon", "label", "type"]
  public static var all: [String] { required + optional }
}

/// What one input record is.
public enum InputRecord {
  /// A transaction to score.
  case transaction(Transaction, id: UnsafeBufferPointer<UInt8>)
  /// A late label for an earlier transaction (`type=label`).
  case label(transaction: UInt64, fraud: Bool)
}

/// Turns records of a CSV or NDJSON reader into transactions, through a `--map` column mapping.
public struct TransactionSource: Sendable {
  /// The largest amount accepted: beyond it a value is a data error (a unit or typing slip), rejected rather than
  /// scored, so that no absurd amount is approved silently or poisons a card's running means.
  public static let maximumAmount = 1e9

  let positions: [String: Int]
  let id: Int
  let time: Int
  let card: Int
  let amount: Int
  let merchant: Int?
  let lat: Int?
  let lon: Int?
  let label: Int?
  let type: Int?

  /// Resolves the logical fields in `header`.
  /// - Throws: `TabularError(.schema)` naming a missing required field and the columns that exist.
  public init(header: Header, mapping: ColumnMapping, file: String) throws(TabularError) {
    positions = try mapping.resolve(
      required: TransactionFields.required, optional: TransactionFields.optional, in: header, file: file)
    id = positions["transaction_id"]!
    time = positions["timestamp"]!
    card = positions["card"]!
    amount = positions["amount"]!
    merchant = positions["merchant"]
    lat = positions["lat"]
    lon = positions["lon"]
    label = positions["label"]
    type = positions["type"]
  }

  /// Times accepted: 0001-01-01 to 9999-12-31 (seconds since 1970).
  static let earliest = -62_135_596_800.0
  static let latest = 253_402_300_800.0

  /// Whether the file has labels.
  public var hasLabels: Bool { label != nil }

  /// A fast 64-bit hash of a short id without its surrounding blanks (8 bytes at a time, multiply-xorshift
  /// mixing, a final avalanche); nil when the id is blank.
  @inline(__always)
  static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? { hashAndASCII(bytes)?.hash }

  /// `hash(_:)`, and whether the bytes are all ASCII (blanks are), from the same loads.
  @inline(__always)
  static func hashAndASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> (hash: UInt64, ascii: Bool)? {
    let (lo, hi) = FieldParser.trimmed(bytes)
    if lo == hi { return nil }
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(hi - lo)
    var i = lo
    let raw = UnsafeRawPointer(bytes.baseAddress!)
    var seen: UInt64 = 0
    while i + 8 <= hi {
      let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      seen |= w
      h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 31
      i += 8
    }
    // The last 0–7 bytes as a little-endian number, in at most three loads.
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    if hi - i >= 4 {
      tail = UInt64(raw.loadUnaligned(fromByteOffset: i, as: UInt32.self))
      shift = 32
      i += 4
    }
    if hi - i >= 2 {
      tail |= UInt64(raw.loadUnaligned(fromByteOffset: i, as: UInt16.self)) << shift
      shift += 16
      i += 2
    }
    if hi > i { tail |= UInt64(bytes[i]) << shift }
    seen |= tail
    h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 29
    h = h &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 32
    return (h, seen & 0x8080_8080_8080_8080 == 0)
  }

  static func labelValue(_ reader: some RecordReader, _ index: Int) throws(TabularError) -> Bool? {
    guard let bytes = reader.fieldBytes(index) else { return nil }
    let (lo, hi) = FieldParser.trimmed(bytes)
    if lo == hi { return nil }
    let t = UnsafeBufferPointer(rebasing: bytes[lo..<hi])
    if t.count == 1 && t[0] == UInt8(ascii: "1") { return true }
    if t.count == 1 && t[0] == UInt8(ascii: "0") { return false }
    let text = String(decoding: t, as: UTF8.self).lowercased()
    if ["true", "fraud", "yes"].contains(text) { return true }
    if ["false", "genuine", "no", "legit"].contains(text) { return false }
    throw reader.error(atField: index, "expected a label 1/0, fraud/genuine or true/false, found \"\(text)\"")
  }

  /// The current record of `reader` as a transaction or a label, its timestamp read through `dates` (the date of
  /// the previous record's timestamp; one cache per reader).
  /// - Throws: `TabularError` with the line and column of a missing id, card, bad time, amount or label.
  @inline(__always)
  public func record(_ reader: some RecordReader, dates: inout FieldParser.TimestampCache) throws(TabularError)
    -> InputRecord
  {
    guard let idBytes = reader.fieldBytes(id), let (idHash, idASCII) = TransactionSource.hashAndASCII(idBytes) else {
      throw reader.error(atField: id, "the transaction id is blank; expected an id")
    }
    guard idASCII || String(validating: idBytes, as: UTF8.self) != nil else {
      throw reader.error(
        atField: id, "invalid UTF-8 bytes in the transaction id, expected UTF-8 text", kind: .malformedRecord)
    }
    if let type, let t = reader.fieldBytes(type), FeatureEncoderText.equals(t, "label") {
      guard let label, let value = try TransactionSource.labelValue(reader, label) else {
        throw reader.error(atField: label ?? id, "a label row needs a label value")
      }
      return .label(transaction: idHash, fraud: value)
    }
    guard let when = try reader.timestamp(time, cache: &dates) else {
      throw reader.error(atField: time, "the timestamp is blank; expected a time")
    }
    guard when >= TransactionSource.earliest, when < TransactionSource.latest else {
      throw reader.error(atField: time, "expected a time in the years 1 to 9999, found \(when) s since 1970")
    }
    guard let cardBytes = reader.fieldBytes(card), let (cardHash, cardASCII) = TransactionSource.hashAndASCII(cardBytes)
    else {
      throw reader.error(atField: card, "the card is blank; expected a card id")
    }
    guard cardASCII || String(validating: cardBytes, as: UTF8.self) != nil else {
      throw reader.error(
        atField: card, "invalid UTF-8 bytes in the card id, expected UTF-8 text", kind: .malformedRecord)
    }
    guard let value = try reader.double(amount) else {
      throw reader.error(atField: amount, "the amount is blank; expected a number")
    }
    guard value >= 0 else { throw reader.error(atField: amount, "expected an amount ≥ 0, found \(value)") }
    guard value <= TransactionSource.maximumAmount else {
      throw reader.error(
        atField: amount,
        "expected an amount of at most 1e9 (a larger one is taken for a data error, not approved), found \(value)")
    }
    var merchantHash: UInt64 = 0
    if let merchant, let m = reader.fieldBytes(merchant), let h = TransactionSource.hash(m) { merchantHash = h | 1 }
    var latitude = Double.nan
    var longitude = Double.nan
    if let lat, let lon, let a = try reader.double(lat), let b = try reader.double(lon) {
      guard abs(a) <= 90, abs(b) <= 180 else {
        throw reader.error(atField: lat, "expected a latitude within ±90 and a longitude within ±180")
      }
      latitude = a
      longitude = b
    }
    let labelValue = try label.flatMap { i throws(TabularError) in try TransactionSource.labelValue(reader, i) }
    return .transaction(
      Transaction(
        idHash: idHash, time: when, card: cardHash, merchant: merchantHash, amount: value,
        lat: latitude, lon: longitude, label: labelValue), id: idBytes)
  }
}

enum FeatureEncoderText {
  @inline(__always)
  static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
    let (lo, hi) = FieldParser.trimmed(bytes)
    guard hi - lo == text.utf8CodeUnitCount else { return false }
    for k in 0..<(hi - lo) where bytes[lo + k] != text.utf8Start[k] { return false }
    return true
  }
}
