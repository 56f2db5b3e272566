import ArgumentParser
import Churn
import CommandLineSupport
import Foundation
import Modeling
import TabularIO

extension ChurnFamily: ExpressibleByArgument {}

struct ChurnModelName: ParsableArguments {
  @Option(name: .long, help: "The model's name in the store.") var model = "churn"
}

func number(_ x: Double, _ decimals: Int = 4) -> Cell { .number(x, decimals: decimals) }

func pValueText(_ p: Double) -> String { p < 0.001 ? String(format: "%.1e", p) : String(format: "%.3f", p) }

func validationTables(_ v: ValidationReport, title: String) -> String {
  var out = "\(title)\n"
  out += String(
    format: "ROC AUC %.4f   PR AUC %.4f   log loss %.4f   Brier %.4f\n", v.rocAUC, v.prAUC, v.logLoss, v.brier)
  let c = v.confusion
  out += String(
    format: "at threshold %.4f: accuracy %.4f  precision %.4f  recall %.4f  F1 %.4f  (TP %d FP %d TN %d FN %d)\n\n",
    v.threshold, c.accuracy, c.precision, c.recall, c.f1, c.truePositives, c.falsePositives, c.trueNegatives,
    c.falseNegatives)
  var t = OutputTable(columns: ["decile", "customers", "churners", "churn_rate", "lift", "cumulative_gain"])
  for d in v.deciles {
    t.rows.append([
      .integer(d.decile), .integer(d.customers), .integer(d.churners), number(d.rate), number(d.lift, 2),
      number(d.cumulativeGain),
    ])
  }
  return out + t.render(.table)
}

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train", abstract: "Train a churn model on a customer CSV and register it as a new version.",
    discussion: """
      Infers each column's kind (numeric, boolean-like, categorical, id-like), imputes missing values (median or \
      mode, plus a missing indicator), one-hot encodes categories against their most frequent level, drops \
      aliased columns, fits the model, prints its summary and the stratified cross-validation metrics, and \
      registers it.

      --model linear: logistic regression by Newton–IRLS with a statsmodels-style summary. --model additive: a \
      penalized generalized additive logistic model — each number with at least 5 distinct values a cubic \
      P-spline (20 basis functions on equal intervals over its training range — of its values, or of their \
      quantile scale when an 8-function regression spline of the number alone fits the target better so — a \
      second-order difference penalty, flat beyond the range; a number nearly identical to an earlier one, \
      correlation above 0.999, is left out), \
      categorical and boolean columns as parametric main effects (a factor of four or more levels as a random \
      effect: its indicators ridge-penalized), and up to --interactions pairwise interactions found on the main \
      model's residuals (pairs ranked by a score test on their two-way table beyond the margins, as InterpretML's \
      FAST ranks them; kept when its standardized excess is at least 2): two numbers as a tensor product of \
      centered 8-function bases, a number and a factor as a smooth of the number per level. Smoothing \
      parameters are chosen by REML (Laplace approximation, generalized Fellner–Schall updates); the summary \
      gives the parametric coefficients and a smooth-terms table as mgcv's summary.gam (effective and reference \
      degrees of freedom, Wood's χ² test), deviance explained and AIC. Above 100,000 customers the additive model \
      is fitted (and cross-validated) on an evenly spread subsample of 100,000. --model auto (the default): both, \
      under the same folds, side by side; the one with the lower out-of-fold log loss is registered.
      """)

  @Option(name: .long, help: ArgumentHelp("The customer CSV.", valueName: "file")) var data: String
  @Option(name: .long, help: "The outcome column (two values, e.g. Yes/No).") var target: String
  @Option(name: .long, help: "The target value meaning churn (default: inferred from Yes/1/true/churned).")
  var positive: String?
  @Option(name: .customLong("id-column"), help: "The customer id column (default: inferred).") var idColumn: String?
  @Option(name: .long, help: "Columns to leave out, comma-separated.") var exclude: String?
  @Option(
    name: .customLong("time-column"),
    help:
      "A column of record times (e.g. the snapshot date): never a feature; its first and last time are kept as the training data's span."
  ) var timeColumn: String?
  @Option(name: .long, parsing: .unconditional, help: "L2 (ridge) penalty.") var l2 = 0.0
  @Option(name: .long, parsing: .unconditional, help: "L1 (lasso) penalty; with --l2, the elastic net.") var l1 = 0.0
  @Option(name: .long, parsing: .unconditional, help: "Cross-validation folds (0: none).") var cv = 5
  @Option(
    name: .customLong("cost-fp"), parsing: .unconditional,
    help: "Cost of a false alarm (with --cost-fn: threshold by least cost).")
  var costFP: Double?
  @Option(name: .customLong("cost-fn"), parsing: .unconditional, help: "Cost of a missed churner.") var costFN: Double?
  @Option(
    name: .customLong("min-level-count"), parsing: .unconditional,
    help: "Categories seen fewer times are pooled as 'other'.")
  var minLevelCount = 10
  @Flag(name: .customLong("skip-bad-rows"), help: "Skip and count rows with bad values instead of stopping.")
  var skipBadRows = false
  @Option(name: .long, parsing: .unconditional, help: "Seed of the cross-validation folds.") var seed: UInt64 = 42
  @Option(
    name: .customLong("design-matrix"),
    help: ArgumentHelp(
      "Also write the final design matrix (original units) and 0/1 target as CSV, to check the fit elsewhere.",
      valueName: "file"))
  var designMatrix: String?
  @Option(name: .long, help: "Threads for reading the file (default: every processor).")
  var threads = ProcessInfo.processInfo.activeProcessorCount
  @Option(
    name: .customLong("model"),
    help: "auto (fit both and keep the lower cross-validated log loss), linear or additive.")
  var family: ChurnFamily = .auto
  @Option(
    name: .long, parsing: .unconditional,
    help: "Additive model: at most this many pairwise interactions (0 to 10).")
  var interactions = 10
  @Option(
    name: .customLong("name"),
    help: "The model's name in the store (the other churn commands take it as --model NAME).")
  var modelName = "churn"
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard interactions >= 0, interactions <= 10 else { throw ValidationError("--interactions must be 0 to 10") }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    guard l2 >= 0, l1 >= 0, l2.isFinite, l1.isFinite else { throw ValidationError("--l1 and --l2 must be ≥ 0") }
    guard cv == 0 || cv >= 2 else { throw ValidationError("--cv must be 0 (none) or at least 2, got \(cv)") }
    guard (costFP == nil) == (costFN == nil) else {
      throw ValidationError("give both --cost-fp and --cost-fn, or neither")
    }
    if let costFP, let costFN, !(costFP > 0 && costFN > 0) {
      throw ValidationError("--cost-fp and --cost-fn must be positive")
    }
    guard minLevelCount >= 1 else { throw ValidationError("--min-level-count must be at least 1") }
  }

  func run() throws {
    var options = ChurnTrainingOptions(target: target)
    options.positive = positive
    options.idColumn = idColumn
    options.exclude = exclude?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
    options.timeColumn = timeColumn
    options.regression.l2 = l2
    options.regression.l1 = l1
    options.folds = cv
    if let costFP, let costFN { options.costs = MisclassificationCosts(falsePositive: costFP, falseNegative: costFN) }
    options.minimumLevelCount = minLevelCount
    options.skipBadRows = skipBadRows
    options.seed = seed
    options.designMatrixPath = designMatrix
    options.threads = threads
    options.family = family
    options.additive.interactions = interactions
    // The store is opened (and created) before the work, so that a bad location fails at once.
    let store = try storeOptions.openModels(create: true)
    if let existing = try store.list(name: modelName).first, !ChurnStore.kinds.contains(existing.kind) {
      throw CommerceError(
        .usage, "model '\(modelName)' holds \(existing.kind) versions; train the churn model under another --name")
    }
    if let designMatrix { try OutputFiles.refuseOverwriting(designMatrix, inputs: [data] + store.files) }
    // Training reads the file more than once: a pipe is read once into a temporary copy.
    let report = try SpooledInput.withInput(data) { path in try ChurnTrainer.train(path: path, options: options) }
    var schema = OutputTable(columns: ["column", "kind", "note"])
    for note in report.notes {
      schema.rows.append([
        .text(note.column), .text(note.decision), .text(note.detail.rendered(naming: CommandLineNames.name)),
      ])
    }
    print("Schema\n" + schema.render(.table))
    if !report.aliased.isEmpty {
      print(
        "Aliased columns dropped (exact linear combinations of other columns): \(report.aliased.joined(separator: ", "))\n"
      )
    }
    if report.skippedRows > 0 { print("Skipped rows: \(report.skippedRows)\n") }
    for warning in report.warnings.map({ $0.rendered(naming: CommandLineNames.name) }) {
      print("Warning: \(warning)\n")
      printError("churn: warning: \(warning)")
    }
    let s = report.summary
    let m = report.model
    if let a = m.additive {
      print("Generalized additive model (logistic, REML smoothing): \(m.target) = \(m.positive)")
      let subsample = a.fittedRows < a.trainingRows ? " (fitted on an evenly spread \(a.fittedRows))" : ""
      print(
        String(
          format:
            "observations %d%@   effective degrees of freedom %.2f\nlog-likelihood %.4f   LL-null %.4f   deviance explained %.2f%%\nAIC %.4f\n",
          s.observations, subsample, a.totalEDF, s.logLikelihood, s.nullLogLikelihood, 100 * a.devianceExplained,
          s.aic))
      for (column, twin) in a.duplicates.sorted(by: { $0.key < $1.key }) {
        print("\(column): left out, it carries the same information as \(twin) (correlation above 0.999)")
      }
      if !a.duplicates.isEmpty { print() }
      if !a.factors.isEmpty {
        print(
          "Random effects (ridge-penalized indicators, in the smooth terms below): \(a.factors.map(\.name).joined(separator: ", "))\n"
        )
      }
      print("Parametric coefficients")
    } else {
      print(
        "Logistic regression: \(m.target) = \(m.positive)\(s.penalized ? "  (penalized: l2 \(l2), l1 \(l1); standard errors approximate)" : "")"
      )
      print(
        String(
          format:
            "observations %d   converged %@ (%d iterations)\nlog-likelihood %.4f   LL-null %.4f   pseudo R² (McFadden) %.4f\nLLR p-value %@   AIC %.4f\n",
          s.observations, s.converged ? "yes" : "no", s.iterations, s.logLikelihood, s.nullLogLikelihood, s.pseudoR2,
          pValueText(s.llrPValue), s.aic))
    }
    var coefficients = OutputTable(columns: [
      "feature", "coef", "std_err", "z", "p>|z|", "ci_2.5%", "ci_97.5%", "odds_ratio", "coef_std", "std_err_std",
    ])
    for r in s.coefficients {
      coefficients.rows.append([
        .text(r.name), number(r.estimate), number(r.standardError), number(r.z, 3), .text(pValueText(r.pValue)),
        number(r.lower), number(r.upper), number(r.oddsRatio), number(r.standardizedEstimate),
        number(r.standardizedError),
      ])
    }
    print(coefficients.render(.table))
    if let a = m.additive {
      print("Smooth terms (χ²: Wood's test that the term is zero)")
      var t = OutputTable(columns: ["term", "edf", "ref_df", "chi_sq", "p_value"])
      for term in a.smooths {
        t.rows.append([
          .text(term.name), number(term.edf, 3), number(term.referenceDF, 3), number(term.chiSquared, 2),
          .text(pValueText(term.pValue)),
        ])
      }
      for factor in a.factors {
        t.rows.append([
          .text(factor.name), number(factor.edf, 3), number(factor.referenceDF, 3), number(factor.chiSquared, 2),
          .text(pValueText(factor.pValue)),
        ])
      }
      print(t.render(.table))
      let quantileKnots = a.smooths.filter { $0.kind == .main && $0.bases[0].warp != nil }.map(\.name)
      if !quantileKnots.isEmpty {
        print(
          "Knots on the quantile scale (the number alone fits better so): \(quantileKnots.joined(separator: ", "))")
      }
      let pairs = a.smooths.filter { $0.kind != .main }
      if pairs.isEmpty {
        print("Interactions: none found above the search's threshold\n")
      } else {
        print("Interactions found on the main effects' residuals: \(pairs.map(\.name).joined(separator: ", "))\n")
      }
    }
    if !report.comparison.isEmpty {
      print(
        "Both families under the same \(report.comparison[0].validation.folds) stratified folds (out-of-fold scores)")
      var t = OutputTable(columns: ["model", "roc_auc", "pr_auc", "log_loss", "brier"])
      for c in report.comparison {
        let v = c.validation
        t.rows.append([.text(c.family.rawValue), number(v.rocAUC), number(v.prAUC), number(v.logLoss), number(v.brier)])
      }
      print(t.render(.table), terminator: "")
    }
    if let choice = report.choice { print(choice + "\n") }
    if let v = report.validation {
      print(validationTables(v, title: "Cross-validation (\(v.folds) folds, stratified, out-of-fold scores)"))
    }
    print(String(format: "threshold %.4f (%@)", m.threshold, m.thresholdRule))
    let version = try ChurnStore.register(report, options: options, in: store, name: modelName)
    print(
      "registered \(version.name) version \(version.version) (\(m.features.count) features, \(s.observations) customers)"
    )
  }
}

struct ScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "score",
    abstract: "Score a customer CSV of any size: id,churn_probability,churn,decile,reasons.",
    discussion: """
      Columns are matched by name in any order; extra columns are ignored; a missing model column is an error \
      before any output. Reasons are the columns contributing most to the log-odds of churn. Category levels \
      unseen in training are scored as the reference level and counted on stderr. FILE `-` reads standard input. \
      A header-less input (a partition piped by a Spark job) names its columns with --columns: a comma-separated \
      list, or `model` for the model's own order (its id column, then its input columns in the order the model keeps \
      them). --no-header leaves the output's header line out.
      """)

  @Argument(help: "The customer CSV (-: standard input).") var file: String
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The input has no header line; these are its columns (comma-separated, or 'model').", valueName: "list"))
  var columns: String?
  @Flag(name: .customLong("no-header"), help: "Leave the output's header line out.") var noHeader = false
  @Option(name: .long, help: ArgumentHelp("Write here (atomically) instead of standard output.", valueName: "file"))
  var output: String?
  @Option(name: .long, parsing: .unconditional, help: "Reasons per customer (0: none).") var reasons = 3
  @Option(name: .long, parsing: .unconditional, help: "Decision threshold (default: the model's).") var threshold:
    Double?
  @Flag(name: .customLong("skip-bad-rows"), help: "Skip and count rows with bad values instead of stopping.")
  var skipBadRows = false
  @Option(name: .long, help: "Threads (default: every processor).")
  var threads = ProcessInfo.processInfo.activeProcessorCount
  @Option(name: .long, parsing: .unconditional, help: "Decimals of churn_probability, 0 to 12.") var decimals = 6
  @OptionGroup var name: ChurnModelName
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    guard (0...12).contains(decimals) else { throw ValidationError("--decimals must be 0 to 12, got \(decimals)") }
    guard reasons >= 0 else { throw ValidationError("--reasons must be ≥ 0") }
    if let threshold, !(threshold >= 0 && threshold <= 1) { throw ValidationError("--threshold must be in [0, 1]") }
  }

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    if let output { try OutputFiles.refuseOverwriting(output, inputs: (file == "-" ? [] : [file]) + store.files) }
    let model = try ChurnStore.load(from: store, name: name.model).model
    let inputColumns = columns.map { list in
      list == "model"
        ? model.inputColumns : list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    let summary = try ChurnScorer.scoreFile(
      model: model, path: file, output: output, reasons: reasons, threshold: threshold, skipBadRows: skipBadRows,
      threads: threads, decimals: decimals, columns: inputColumns, writeHeader: !noHeader)
    for (column, count) in summary.unseenLevels.sorted(by: { $0.key < $1.key }) {
      printError(
        "churn: \(count) rows have a '\(column)' value not seen in training (scored as '\(model.columns.first { $0.name == column }!.reference)')"
      )
    }
    if let id = summary.missingIDColumn {
      printError(
        "churn: \(file) has no '\(id)' column (the model's id): the output numbers the rows (1, 2, …) in a column named 'row', not '\(id)'"
      )
    }
    if summary.skippedRows > 0 { printError("churn: skipped \(summary.skippedRows) bad rows") }
    printError("churn: scored \(summary.rows) customers, \(summary.predictedChurners) predicted to churn")
  }
}

struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Measure a model: on a labeled customer CSV, or (without --data) its cross-validated training scores.",
    discussion: """
      Prints ROC AUC, average precision, log loss, Brier, the confusion matrix at the threshold, the decile table, \
      the calibration table and the threshold sweep. --format json prints the whole evaluation, with the ROC and \
      precision-recall points (thinned to 200, shape kept), the sweep at every 0.01 and the score histograms by \
      class: the numbers churn report draws.
      """)

  @Option(name: .long, help: ArgumentHelp("A customer CSV with the target column.", valueName: "file")) var data:
    String?
  @Option(name: .long, help: "The version (default: the active one).") var version: Int?
  @Flag(name: .customLong("skip-bad-rows"), help: "Skip and count rows with bad values instead of stopping.")
  var skipBadRows = false
  @Option(name: .long, help: "Output format: table or json.") var format: OutputFormat = .table
  @OptionGroup var name: ChurnModelName
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let stored = try ChurnStore.load(from: store, name: name.model, version: version)
    let (model, version) = (stored.model, stored.version)
    let report: ValidationReport
    var title = ""
    if let data {
      let e = try SpooledInput.withInput(data) {
        try ChurnEvaluation.run(model: model, path: $0, skipBadRows: skipBadRows)
      }
      report = e.report
      title = "\(version.name) version \(version.version) on \(data) (\(e.report.confusion.total) labeled customers)"
      if e.unlabeledRows > 0 { printError("churn: \(e.unlabeledRows) rows without a label were not counted") }
      if e.summary.skippedRows > 0 { printError("churn: skipped \(e.summary.skippedRows) bad rows") }
    } else {
      guard let record = try ChurnStore.training(from: store, version), let v = record.validation else {
        throw CommerceError(
          .usage,
          "\(version.name) version \(version.version) has no cross-validated scores (trained with --cv 0, or before they were kept); give a labeled file: --data FILE"
        )
      }
      report = v
      title = "\(version.name) version \(version.version): \(v.folds)-fold cross-validation on its training data"
    }
    if format == .json {
      print(try jsonText(report))
      return
    }
    print(validationTables(report, title: title))
    guard let curves = report.curves else { return }
    var t = OutputTable(columns: ["predicted", "customers", "mean_predicted", "observed_rate"])
    for r in curves.reliability {
      t.rows.append([
        .text(String(format: "%.1f-%.1f", r.lower, r.upper)), .integer(r.count), number(r.meanPredicted),
        number(r.observedRate),
      ])
    }
    print("Calibration\n" + t.render(.table))
    var sweep = OutputTable(columns: ["threshold", "precision", "recall", "f1", "alert_rate"])
    for r in curves.sweep where Int((r.threshold * 100).rounded()) % 5 == 0 {
      sweep.rows.append([
        number(r.threshold, 2), number(r.precision), number(r.recall), number(r.f1), number(r.alertRate),
      ])
    }
    print("Threshold sweep (every 0.01 with --format json)\n" + sweep.render(.table), terminator: "")
  }
}

struct DriftCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "drift",
    abstract: "Population stability of the score and every input column against the training data, with tests.",
    discussion: """
      PSI below 0.1 is stable, 0.1 to 0.25 a moderate shift, 0.25 and above a major one. Each column also gets the \
      test Evidently runs by default: with at most 1,000 training rows Kolmogorov-Smirnov for numbers, chi-squared \
      for categories, a Z-test for two values (drift when p < 0.05); with more, the Wasserstein distance over the \
      training standard deviation for numbers and the Jensen-Shannon distance for categories (drift from 0.1). \
      Numbers with at most 5 distinct values are tested as categories. Above 2,000 training values a number's \
      reference is 2,000 evenly spaced quantiles of them. Models trained before the tests have no reference for \
      numbers: retrain to test them.
      """)

  @Option(name: .long, help: ArgumentHelp("A customer CSV (labels not needed).", valueName: "file")) var data: String
  @Flag(name: .customLong("skip-bad-rows"), help: "Skip and count rows with bad values instead of stopping.")
  var skipBadRows = false
  @OptionGroup var format: FormatOptions
  @OptionGroup var name: ChurnModelName
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let model = try ChurnStore.load(from: store, name: name.model).model
    // Drift reads the file twice (columns, then scores): a pipe is read once into a temporary copy.
    let report = try SpooledInput.withInput(data) { path in
      try ChurnDrift.report(model: model, path: path, skipBadRows: skipBadRows)
    }
    var t = OutputTable(columns: ["quantity", "psi", "shift", "test", "statistic", "p_value", "drift"])
    for r in report.rows {
      t.rows.append([
        .text(r.name), number(r.psi), .text(r.flag), r.test.map { .text($0.test.rawValue) } ?? .missing,
        r.test.map { number($0.statistic) } ?? .missing, r.test?.pValue.map { number($0, 6) } ?? .missing,
        r.test.map { .bool($0.drifted) } ?? .missing,
      ])
    }
    print(format.format == .json ? try jsonText(report) + "\n" : t.render(format.format), terminator: "")
    printError(
      "churn: \(report.driftedColumns) of \(report.testedColumns) columns drifted by their tests (\(String(format: "%.1f", report.driftedShare * 100))%)"
    )
  }
}

struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Each smooth term's shape in an additive model: effect on the log-odds with a pointwise 95% interval.",
    discussion: """
      A grid of 50 values of x over the term's training range (15 × 15 values of x and y for a tensor product of \
      two numbers), the term's effect on the log-odds of churn there, and its 95% interval (±1.96 standard errors \
      from the Bayesian covariance of the coefficients) — the data a plot of the term is drawn from. A by-level \
      term (s(x):level) is the deviation of that level's curve from the main one.
      """)

  @Option(name: .long, help: "Only this term (as the smooth-terms table names it, e.g. 's(tenure)').") var term: String?
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Instead: each term's global importance (mean |contribution| to the log-odds) over the first 10,000 customers of this CSV, and three example customers' contributions (any model).",
      valueName: "file"))
  var data: String?
  @OptionGroup var format: FormatOptions
  @OptionGroup var name: ChurnModelName
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let stored = try ChurnStore.load(from: store, name: name.model)
    if let data {
      let imp = try SpooledInput.withInput(data) {
        try PreparedChurnModel(stored.model, version: stored.version).importance(path: $0)
      }
      var t = OutputTable(columns: ["term", "mean_abs_contribution"])
      for r in imp.rows { t.rows.append([.text(r.term), number(r.meanAbsolute, 6)]) }
      var e = OutputTable(columns: ["customer", "probability", "baseline", "term", "value", "contribution"])
      for x in imp.examples {
        for c in x.contributions {
          e.rows.append([
            .text(x.id ?? ""), number(x.probability, 6), number(x.baseline, 6), .text(c.term), .text(c.value),
            number(c.contribution, 6),
          ])
        }
      }
      if format.format == .table {
        print("Global importance over \(imp.customers) customers of \(data)\n" + t.render(.table))
        print(
          "Example customers (highest risk, nearest the threshold, lowest risk)\n" + e.render(.table), terminator: "")
      } else if format.format == .json {
        print(try jsonText(imp))
      } else {
        print(t.render(.csv))
        print(e.render(.csv), terminator: "")
      }
      return
    }
    guard let additive = stored.model.additive else {
      // A linear model's terms are its coefficients: the table churn train printed, kept with the version.
      guard term == nil, let record = try ChurnStore.training(from: store, stored.version) else {
        throw CommerceError(
          .usage,
          "\(stored.version.name) version \(stored.version.version) is a linear model: its terms are the coefficients churn train printed\(term == nil ? " (this version was registered before they were kept: retrain it to see them here)" : ", not smooth terms"); explain shows an additive model's shapes (churn train --model additive)"
        )
      }
      var t = OutputTable(columns: [
        "feature", "estimate", "std_error", "z", "p_value", "lower_95", "upper_95", "odds_ratio", "standardized",
        "standardized_error",
      ])
      for c in record.summary.coefficients {
        t.rows.append([
          .text(c.name), number(c.estimate, 6), number(c.standardError, 6), number(c.z, 4), number(c.pValue, 6),
          number(c.lower, 6), number(c.upper, 6), number(c.oddsRatio, 6), number(c.standardizedEstimate, 6),
          number(c.standardizedError, 6),
        ])
      }
      print(t.render(format.format), terminator: "")
      return
    }
    let points = try additive.shapes(term: term)
    var t = OutputTable(columns: ["term", "x", "y", "effect", "lower_95", "upper_95"])
    for p in points {
      t.rows.append([
        // Values read back from the standardized design can be a rounding away from 0: show them as 0.
        .text(p.term), number(abs(p.x) < 1e-9 ? 0 : p.x, 4), p.y.map { number(abs($0) < 1e-9 ? 0 : $0, 4) } ?? .missing,
        number(p.effect), number(p.lower),
        number(p.upper),
      ])
    }
    print(t.render(format.format), terminator: "")
  }
}

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write one self-contained HTML page about a model version, with SVG charts.",
    discussion: """
      The model card; the cross-validated ROC and precision-recall curves, calibration, score distribution by \
      class, confusion matrix, threshold sweep, gains and lift (churn evaluate); the coefficients with 95% \
      intervals, or each smooth term's shape with its band and the interactions as heat maps (churn explain); \
      with --data, each term's global importance and three example customers as waterfalls (churn explain \
      --data) and the file's drift against training (churn drift). Nothing is fetched: the page opens offline \
      and prints.
      """)

  @Option(name: .long, help: ArgumentHelp("A customer CSV: importance, example customers, drift.", valueName: "file"))
  var data: String?
  @Option(name: .long, help: "The version (default: the active one).") var version: Int?
  @Option(name: .long, help: ArgumentHelp("The HTML file to write (atomically).", valueName: "file")) var output: String
  @Flag(name: .customLong("skip-bad-rows"), help: "Skip and count rows with bad values instead of stopping.")
  var skipBadRows = false
  @OptionGroup var name: ChurnModelName
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    try OutputFiles.refuseOverwriting(output, inputs: (data.map { [$0] } ?? []) + store.files)
    let stored = try ChurnStore.load(from: store, name: name.model, version: version)
    let page = try SpooledInput.withOptionalInput(data) { path in
      try ChurnReport.build(stored: stored, store: store, data: path, shownAs: data, skipBadRows: skipBadRows)
    }
    try writeReport(page, to: output)
    printError("churn: wrote \(output) (\(page.charts.count + page.heatMaps.count) charts)")
  }
}
