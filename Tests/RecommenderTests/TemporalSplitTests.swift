import Foundation
import Modeling
import TabularIO
import Testing

@testable import Recommender

/// Issue 13: `evaluate --split time` holds out each user's latest interactions.
@Suite struct TemporalSplitTests {
  @Test func eachUsersLatestInteractionsAreHeldOut() throws {
    // u1: 6 interactions (20% → 1 held out: the latest, i6, even though it is listed first); u2: 10 (2 held out:
    // the two latest, i3 at 09:00 and i9 twice, whose latest row counts); u3: 3 (below 5: none held out).
    let csv = """
      user_id,item_id,timestamp
      u1,i6,2026-01-06T00:00:00Z
      u1,i1,2026-01-01T00:00:00Z
      u1,i2,2026-01-02T00:00:00Z
      u1,i3,2026-01-03T00:00:00Z
      u1,i4,2026-01-04T00:00:00Z
      u1,i5,2026-01-05T00:00:00Z
      u2,i1,2026-02-01T01:00:00Z
      u2,i2,2026-02-01T02:00:00Z
      u2,i3,2026-02-01T09:00:00Z
      u2,i4,2026-02-01T04:00:00Z
      u2,i5,2026-02-01T05:00:00Z
      u2,i6,2026-02-01T06:00:00Z
      u2,i7,2026-02-01T07:00:00Z
      u2,i8,2026-02-01T03:00:00Z
      u2,i9,2026-02-01T00:30:00Z
      u2,i9,2026-02-01T10:00:00Z
      u2,i10,2026-02-01T00:10:00Z
      u3,i1,2026-03-01T00:00:00Z
      u3,i2,2026-03-02T00:00:00Z
      u3,i3,2026-03-03T00:00:00Z

      """
    var columns = InteractionColumns()
    columns.timestamp = "timestamp"
    let data = try InteractionData.load(path: temporaryFile(csv), columns: columns, feedback: .implicit)
    #expect(data.users.count == 19)  // u2's two i9 rows are one pair
    let matrix = try SparseMatrix(
      rowCount: data.userIDs.count, columnCount: data.itemIDs.count, rows: data.users, columns: data.items,
      values: data.values)
    let holdout = try Holdout(matrix: matrix, times: try #require(data.times), fraction: 0.2)
    func held(_ user: String) -> Set<String> {
      let u = data.userIDs.firstIndex(of: user)!
      return Set(holdout.test[u].map { data.itemIDs[Int($0.item)] })
    }
    #expect(held("u1") == ["i6"])
    #expect(held("u2") == ["i3", "i9"])
    #expect(held("u3").isEmpty)
    #expect(holdout.testCount == 3)
    #expect(holdout.train.nonZeroCount == 16)
    // Without a time column the temporal split says what it needs.
    let untimed = try InteractionData.load(path: temporaryFile(csv), columns: InteractionColumns(), feedback: .implicit)
    #expect(untimed.times == nil)
    #expect(throws: CommerceError.self) {
      _ = try RecommenderEvaluation.evaluate(
        untimed, configuration: .defaults(for: .implicit), testFraction: 0.2, seed: 1, k: 3, split: .time)
    }
  }
}
