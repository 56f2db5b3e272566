import Foundation
import LinearAlgebra
import Modeling

/// A recommender family with its settings: the one place that picks a family for training.
///
/// Each family lives in its own file: its settings, its fitted model (a `RecommenderModel`), its stored parts and
/// its serving (a `RecommenderServing`, chosen by kind in `RecommenderFamilies.serving`).
public enum RecommenderConfiguration: Sendable, Codable, Equatable {
  /// Implicit feedback: ALS on confidences `1 + α·value` (Hu, Koren & Volinsky 2008).
  case implicitALS(ImplicitALS.Configuration)
  /// Explicit feedback: biased matrix factorization of ratings.
  case biasedMF(BiasedALS.Configuration)
  /// Implicit feedback: EASE, a closed-form item-item model (Steck 2019).
  case ease(EASE.Configuration)

  /// The defaults of the family for `feedback`.
  public static func defaults(for feedback: Feedback) -> RecommenderConfiguration {
    switch feedback {
    case .implicit: .implicitALS(ImplicitALS.Configuration())
    case .explicit: .biasedMF(BiasedALS.Configuration())
    }
  }

  /// The kind of data the family learns from.
  public var feedback: Feedback {
    switch self {
    case .implicitALS, .ease: .implicit
    case .biasedMF: .explicit
    }
  }

  /// The model kind recorded in the store.
  public var kind: String {
    switch self {
    case .implicitALS: FactorRecommender.implicitKind
    case .biasedMF: FactorRecommender.explicitKind
    case .ease: EASERecommender.kind
    }
  }

  /// Threads used to fit and to score.
  public var threads: Int {
    switch self {
    case .implicitALS(let c): c.threads
    case .biasedMF(let c): c.threads
    case .ease(let c): c.threads
    }
  }

  /// The settings as text, for the model registry.
  public var parameters: [String: String] {
    switch self {
    case .implicitALS(let c): FactorRecommender.parameters(c)
    case .biasedMF(let c): FactorRecommender.parameters(c)
    case .ease(let c): EASERecommender.parameters(c)
    }
  }

  /// Fits this family to `matrix` (users × items).
  func fit(_ matrix: SparseMatrix, progress: ((TrainingProgress) -> Void)?) throws -> any RecommenderModel {
    switch self {
    case .implicitALS(let c): return try FactorRecommender.fit(matrix, configuration: c, progress: progress)
    case .biasedMF(let c): return try FactorRecommender.fit(matrix, configuration: c, progress: progress)
    case .ease(let c):
      // One closed-form step, reported as one iteration.
      let started = Date()
      let weights = try EASE.fit(matrix, configuration: c)
      progress?(
        TrainingProgress(iteration: 1, iterations: 1, measure: nil, seconds: Date().timeIntervalSince(started)))
      return EASERecommender(weights: weights, history: matrix, lambda: c.lambda)
    }
  }
}

/// One training iteration, as the front end shows it.
public struct TrainingProgress: Sendable, Codable, Equatable {
  /// What the iteration measured on the training data.
  public enum Measure: Sendable, Codable, Equatable {
    /// The objective per cell (implicit ALS).
    case loss(Double)
    /// The root mean squared error of the ratings (explicit).
    case rmse(Double)
  }

  public var iteration: Int
  public var iterations: Int
  public var measure: Measure?
  public var seconds: Double
}
