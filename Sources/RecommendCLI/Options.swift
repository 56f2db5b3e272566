import ArgumentParser
import CommandLineSupport
import Modeling
import Recommender

extension Feedback: ExpressibleByArgument {}

/// Where the interactions are and which columns hold what.
struct InteractionOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("The interactions CSV (with a header line).", valueName: "file"))
  var interactions: String

  @OptionGroup var columnOptions: InteractionColumnOptions

  var columns: InteractionColumns { columnOptions.columns }
}

/// The columns of an interactions file, for commands whose interactions file is required or optional.
struct InteractionColumnOptions: ParsableArguments {
  @Option(name: .customLong("user-column"), help: "The user id column.")
  var userColumn = "user_id"

  @Option(name: .customLong("item-column"), help: "The item id column.")
  var itemColumn = "item_id"

  @Option(
    name: .customLong("value-column"),
    help: "A rating, count or weight column (default: none, every row counts 1).")
  var valueColumn: String?

  @Option(name: .customLong("timestamp-column"), help: "A timestamp column, checked for valid times.")
  var timestampColumn: String?

  var columns: InteractionColumns {
    var c = InteractionColumns()
    c.user = userColumn
    c.item = itemColumn
    c.value = valueColumn
    c.timestamp = timestampColumn
    return c
  }
}

enum SolverChoice: String, ExpressibleByArgument, CaseIterable {
  case cg
  case cholesky
}

/// The implicit-feedback families.
enum AlgorithmChoice: String, ExpressibleByArgument, CaseIterable {
  case als
  case ease
}

/// Hyperparameters shared by train, evaluate and tune.
struct HyperparameterOptions: ParsableArguments {
  @Option(name: .long, help: "implicit (counts, clicks, purchases) or explicit (ratings).")
  var feedback: Feedback = .implicit

  @Option(name: .long, parsing: .unconditional, help: "Latent factors per user and item.")
  var factors = 64

  @Option(name: .long, parsing: .unconditional, help: "ALS iterations.")
  var iterations = 15

  @Option(
    name: .long, parsing: .unconditional,
    help: "L2 penalty λ (default: 20 implicit; 0.1 per rating explicit).")
  var regularization: Float?

  @Option(name: .long, parsing: .unconditional, help: "Implicit feedback: confidence = 1 + alpha · value.")
  var alpha: Float = 1

  @Option(name: .long, help: "Implicit feedback: cg (conjugate gradient, warm-started) or cholesky (exact).")
  var solver: SolverChoice = .cg

  @Option(name: .customLong("cg-steps"), parsing: .unconditional, help: "Conjugate-gradient steps per solve.")
  var cgSteps = 3

  @Option(
    name: .customLong("bias-regularization"), parsing: .unconditional,
    help: "Explicit feedback: penalty on user and item biases.")
  var biasRegularization: Float = 0.1

  @Option(
    name: .long, parsing: .unconditional,
    help: "Seed of the initial factors (and, for evaluate and tune, of the splits and the search).")
  var seed: UInt64 = 42

  @Option(name: .long, help: "Threads (default: every processor).")
  var threads = Parallel.processorCount

  /// The process's BLAS thread count for this command, set once when it starts: EASE's fit is BLAS calls (the
  /// threads go to BLAS); the other families and the ranking parallelize with their own threads (BLAS gets one).
  var blasThreads: Int {
    if case .ease = configuration { return threads }
    return 1
  }

  @Option(
    name: .long,
    help:
      "Implicit feedback: als (matrix factorization) or ease (closed-form item-item weights, Steck 2019; items² memory)."
  )
  var algorithm: AlgorithmChoice = .als

  @Option(name: .long, parsing: .unconditional, help: "EASE: the L2 weight λ of the item-item weights.")
  var lambda: Float = 500

  @Option(
    name: .customLong("max-items"), parsing: .unconditional,
    help:
      "EASE: refuse catalogues larger than this (about 12 bytes per item² to fit and register; 20,000 items: 4.5 GiB).")
  var maxItems = 20_000

  func validate() throws {
    guard algorithm == .als || feedback == .implicit else {
      throw ValidationError("--algorithm ease learns from implicit feedback; explicit ratings use biased MF (als)")
    }
    guard lambda > 0, lambda.isFinite else { throw ValidationError("--lambda must be positive, got \(lambda)") }
    guard maxItems >= 1 else { throw ValidationError("--max-items must be at least 1, got \(maxItems)") }
    guard factors >= 1, factors <= 1024 else { throw ValidationError("--factors must be 1 to 1024, got \(factors)") }
    guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1, got \(iterations)") }
    if let regularization, !(regularization >= 0 && regularization.isFinite) {
      throw ValidationError("--regularization must be a finite number ≥ 0, got \(regularization)")
    }
    guard alpha >= 0, alpha.isFinite else { throw ValidationError("--alpha must be a finite number ≥ 0, got \(alpha)") }
    guard cgSteps >= 1 else { throw ValidationError("--cg-steps must be at least 1, got \(cgSteps)") }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }

  /// The family `--feedback` selects, with these settings.
  var configuration: RecommenderConfiguration {
    if feedback == .implicit && algorithm == .ease { return .ease(easeConfiguration) }
    return feedback == .implicit ? .implicitALS(alsConfiguration) : explicitConfiguration
  }

  /// The implicit family `--algorithm` does not choose, with these same settings (tune tries both).
  var otherImplicitFamily: RecommenderConfiguration? {
    guard feedback == .implicit else { return nil }
    return algorithm == .ease ? .implicitALS(alsConfiguration) : .ease(easeConfiguration)
  }

  /// EASE with `--lambda`, `--max-items`, `--threads`, and the memory this process may still take.
  var easeConfiguration: EASE.Configuration {
    var e = EASE.Configuration()
    e.lambda = lambda
    e.maxItems = maxItems
    e.threads = threads
    e.memoryLimit = ResourceLimits.usableBytes()
    return e
  }

  /// Implicit ALS with these settings.
  var alsConfiguration: ImplicitALS.Configuration {
    var c = ImplicitALS.Configuration()
    c.factors = factors
    c.iterations = iterations
    c.regularization = regularization ?? 20
    c.alpha = alpha
    c.solver = solver == .cg ? .conjugateGradient(steps: cgSteps) : .cholesky
    c.seed = seed
    c.threads = threads
    return c
  }

  /// Biased MF with these settings.
  var explicitConfiguration: RecommenderConfiguration {
    var c = BiasedALS.Configuration()
    c.factors = factors
    c.iterations = iterations
    c.regularization = regularization ?? 0.1
    c.biasRegularization = biasRegularization
    c.seed = seed
    c.threads = threads
    return .biasedMF(c)
  }
}

/// A training iteration as one log line.
func describe(_ p: TrainingProgress) -> String {
  switch p.measure {
  case .loss(let loss)?:
    String(format: "iteration %2d/%d  loss %.6g  %.2fs", p.iteration, p.iterations, loss, p.seconds)
  case .rmse(let rmse)?:
    String(format: "iteration %2d/%d  training RMSE %.4f  %.2fs", p.iteration, p.iterations, rmse, p.seconds)
  case nil:
    String(format: "iteration %2d/%d    %.2fs", p.iteration, p.iterations, p.seconds)
  }
}

/// `--model NAME`.
struct ModelNameOption: ParsableArguments {
  @Option(name: .long, help: "The model's name in the store.")
  var model = "recommender"
}
