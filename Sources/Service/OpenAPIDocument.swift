import Foundation

/// The OpenAPI 3.1 document of each server, built here and served at `/openapi.json`; the copies committed under
/// `openapi/` are checked against it by the tests (`Scripts/export-openapi.sh` writes them anew).
public enum OpenAPIDocument {
  public enum App: String, Sendable, CaseIterable {
    case recommend, churn, fraud
  }

  typealias Object = [String: Any]

  static func ref(_ name: String) -> Object { ["$ref": "#/components/schemas/\(name)"] }

  static func json(_ schema: Object, _ description: String = "OK") -> Object {
    ["description": description, "content": ["application/json": ["schema": schema]]]
  }

  static var errorResponse: Object { json(ref("Error"), "An error") }

  /// The error statuses every route may answer, with the route's own.
  static func responses(_ ok: Object, extra: [Int] = [], guarded: Bool = true) -> Object {
    var r: Object = ["200": ok]
    var statuses = [400, 404, 405, 413, 500, 503] + extra
    if guarded { statuses.append(401) }
    for s in statuses { r[String(s)] = errorResponse }
    return r
  }

  static func get(_ summary: String, _ ok: Object, parameters: [Object] = [], guarded: Bool = true) -> Object {
    var op: Object = ["summary": summary, "responses": responses(ok, guarded: guarded)]
    if !parameters.isEmpty { op["parameters"] = parameters }
    if !guarded { op["security"] = [Object]() }
    return op
  }

  static func post(_ summary: String, body: Object, _ ok: Object, parameters: [Object] = [], csv: Bool = false)
    -> Object
  {
    var content: Object = ["application/json": ["schema": body]]
    if csv { content["text/csv"] = ["schema": ["type": "string"]] }
    var op: Object = [
      "summary": summary, "requestBody": ["required": true, "content": content], "responses": responses(ok),
    ]
    if !parameters.isEmpty { op["parameters"] = parameters }
    return op
  }

  static func pathParameter(_ name: String, _ description: String) -> Object {
    [
      "name": name, "in": "path", "required": true, "description": description,
      "schema": ["type": "string", "minLength": 1],
    ]
  }

  static func query(_ name: String, _ schema: Object, _ description: String) -> Object {
    ["name": name, "in": "query", "required": false, "description": description, "schema": schema]
  }

  static var count: Object {
    query("n", ["type": "integer", "minimum": 1, "maximum": 1000, "default": 10], "How many items.")
  }
  static func flag(_ name: String, _ description: String) -> Object {
    query(name, ["type": "boolean", "default": false], description)
  }

  static var common: (paths: Object, schemas: Object) {
    let health: Object = [
      "type": "object", "required": ["status"],
      "properties": ["status": ["type": "string"], "model": ref("ModelReference")],
    ]
    let paths: Object = [
      "/healthz": ["get": get("The process is live.", json(ref("Health")), guarded: false)],
      "/readyz": ["get": get("A model is loaded and the server is not draining.", json(ref("Health")), guarded: false)],
      "/metrics": [
        "get": get(
          "Prometheus text.", ["description": "OK", "content": ["text/plain": ["schema": ["type": "string"]]]],
          guarded: false)
      ],
      "/v1/model": ["get": get("The serving version's fields (`models show`).", json(ref("ModelDescription")))],
      "/v2/health/live": ["get": get("V2: live.", json(ref("V2Live")), guarded: false)],
      "/v2/health/ready": ["get": get("V2: ready.", json(ref("V2Ready")), guarded: false)],
      "/v2/models/{name}": [
        "get": get(
          "V2: model metadata.", json(ref("V2Metadata")), parameters: [pathParameter("name", "The model's name.")])
      ],
      "/v2/models/{name}/ready": [
        "get": get(
          "V2: model ready.", json(ref("V2ModelReady")), parameters: [pathParameter("name", "The model's name.")])
      ],
      "/v2/models/{name}/infer": [
        "post": post(
          "V2: inference.", body: ref("V2InferRequest"), json(ref("V2InferResponse")),
          parameters: [pathParameter("name", "The model's name.")])
      ],
      "/v2/models/{name}/versions/{version}": [
        "get": get(
          "V2: a registered version's metadata.", json(ref("V2Metadata")),
          parameters: [pathParameter("name", "The model's name."), pathParameter("version", "A registered version.")])
      ],
      "/v2/models/{name}/versions/{version}/ready": [
        "get": get(
          "V2: a registered version is ready.", json(ref("V2ModelReady")),
          parameters: [pathParameter("name", "The model's name."), pathParameter("version", "A registered version.")])
      ],
      "/v2/models/{name}/versions/{version}/infer": [
        "post": post(
          "V2: inference with a registered version.", body: ref("V2InferRequest"), json(ref("V2InferResponse")),
          parameters: [pathParameter("name", "The model's name."), pathParameter("version", "A registered version.")])
      ],
    ]
    let value: Object = ["type": ["string", "number", "boolean"]]
    let data: Object = ["type": "array", "items": ["anyOf": [value, ["type": "array"]]]]
    let tensorMeta: Object = [
      "type": "object", "required": ["name", "datatype", "shape"],
      "properties": [
        "name": ["type": "string"], "datatype": ["type": "string"],
        "shape": ["type": "array", "items": ["type": "integer"]],
      ],
    ]
    let parameters: Object = ["type": "object", "additionalProperties": value]
    let schemas: Object = [
      "Error": ["type": "object", "required": ["error"], "properties": ["error": ["type": "string"]]],
      "Health": health,
      "ModelReference": [
        "type": "object", "required": ["name", "version", "kind"],
        "properties": ["name": ["type": "string"], "version": ["type": "integer"], "kind": ["type": "string"]],
      ],
      "ModelDescription": [
        "type": "object",
        "required": [
          "name", "version", "active", "kind", "created", "code_version", "data_bytes", "data_xxh64", "artifact_bytes",
          "parameters", "metrics",
        ],
        "properties": [
          "name": ["type": "string"], "version": ["type": "integer"], "active": ["type": "boolean"],
          "kind": ["type": "string"], "created": ["type": "string", "format": "date-time"],
          "code_version": ["type": "string"], "data_bytes": ["type": "integer"], "data_xxh64": ["type": "string"],
          "artifact_bytes": ["type": "integer"],
          "parameters": ["type": "object", "additionalProperties": ["type": "string"]],
          "metrics": ["type": "object", "additionalProperties": ["type": "number"]],
        ],
      ],
      "V2Live": ["type": "object", "required": ["live"], "properties": ["live": ["type": "boolean"]]],
      "V2Ready": ["type": "object", "required": ["ready"], "properties": ["ready": ["type": "boolean"]]],
      "V2ModelReady": [
        "type": "object", "required": ["name", "ready"],
        "properties": ["name": ["type": "string"], "ready": ["type": "boolean"]],
      ],
      "V2Metadata": [
        "type": "object", "required": ["name", "versions", "platform", "inputs", "outputs"],
        "properties": [
          "name": ["type": "string"], "versions": ["type": "array", "items": ["type": "string"]],
          "platform": ["type": "string"], "inputs": ["type": "array", "items": tensorMeta],
          "outputs": ["type": "array", "items": tensorMeta],
        ],
      ],
      "V2InferRequest": [
        "type": "object", "required": ["inputs"],
        "properties": [
          "id": ["type": "string"], "parameters": parameters,
          "inputs": [
            "type": "array",
            "items": [
              "type": "object", "required": ["name", "shape", "datatype"],
              "properties": [
                "name": ["type": "string"], "datatype": ["type": "string"],
                "shape": ["type": "array", "items": ["type": "integer", "minimum": 0]], "parameters": parameters,
                "data": data,
              ],
            ],
          ],
        ],
      ],
      "V2InferResponse": [
        "type": "object", "required": ["model_name", "model_version", "outputs"],
        "properties": [
          "model_name": ["type": "string"], "model_version": ["type": "string"], "id": ["type": "string"],
          "outputs": [
            "type": "array",
            "items": [
              "type": "object", "required": ["name", "shape", "datatype", "data"],
              "properties": [
                "name": ["type": "string"], "datatype": ["type": "string"],
                "shape": ["type": "array", "items": ["type": "integer"]], "data": data,
              ],
            ],
          ],
        ],
      ],
    ]
    return (paths, schemas)
  }

  static var recommend: (paths: Object, schemas: Object) {
    let list = ref("RecommendationList")
    let paths: Object = [
      "/v1/users/{id}/recommendations": [
        "get": get(
          "A user's top items (an unknown user gets popularity, or 404 when strict).", json(list),
          parameters: [
            pathParameter("id", "The user's id."), count, flag("include_seen", "Keep items the user already has."),
            flag("strict", "404 for a user the model does not know."),
          ])
      ],
      "/v1/recommendations": [
        "post": post("Items for a visitor, folded in from their history.", body: ref("VisitorRequest"), json(list))
      ],
      "/v1/recommendations/batch": [
        "post": post("Top items for up to 1,000 users.", body: ref("BatchRequest"), json(ref("BatchResponse")))
      ],
      "/v1/items/{id}/similar": [
        "get": get(
          "The items most similar to one.", json(list), parameters: [pathParameter("id", "The item's id."), count])
      ],
    ]
    let schemas: Object = [
      "Recommendation": [
        "type": "object", "required": ["rank", "item_id", "score", "metadata"],
        "properties": [
          "rank": ["type": "integer", "minimum": 1], "item_id": ["type": "string"], "score": ["type": "number"],
          "metadata": ["type": "object", "additionalProperties": ["type": "string"]],
        ],
      ],
      "RecommendationList": [
        "type": "object", "required": ["model", "source", "metadata_columns", "items"],
        "properties": [
          "model": ref("ModelReference"),
          "source": ["type": "string", "enum": ["model", "folded-in", "popularity", "average-user"]],
          "metadata_columns": ["type": "array", "items": ["type": "string"]],
          "items": ["type": "array", "items": ref("Recommendation")],
        ],
      ],
      "VisitorRequest": [
        "type": "object", "required": ["history"],
        "properties": [
          "user_id": ["type": "string"], "history": ["type": "array", "items": ["type": "string"]],
          "n": ["type": "integer", "minimum": 1, "maximum": 1000], "include_seen": ["type": "boolean"],
        ],
      ],
      "BatchRequest": [
        "type": "object", "required": ["users"],
        "properties": [
          "users": ["type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 1000],
          "n": ["type": "integer", "minimum": 1, "maximum": 1000], "include_seen": ["type": "boolean"],
        ],
      ],
      "BatchResponse": [
        "type": "object", "required": ["model", "results"],
        "properties": [
          "model": ref("ModelReference"),
          "results": [
            "type": "array",
            "items": [
              "type": "object", "required": ["user_id"],
              "properties": ["user_id": ["type": "string"], "recommendations": list, "error": ["type": "string"]],
            ],
          ],
        ],
      ],
    ]
    return (paths, schemas)
  }

  static var churn: (paths: Object, schemas: Object) {
    let paths: Object = [
      "/v1/score": [
        "post": post(
          "Scores customers (a JSON array of column → value objects, or CSV with a header).",
          body: ["type": "array", "items": ref("Customer"), "minItems": 1, "maxItems": 10000], json(ref("ScoreAnswer")),
          parameters: [
            query("reasons", ["type": "integer", "minimum": 0, "maximum": 20, "default": 3], "Reasons per customer."),
            query("threshold", ["type": "number", "minimum": 0, "maximum": 1], "Overrides the decision threshold."),
          ], csv: true)
      ]
    ]
    let reason: Object = [
      "type": "object", "required": ["column", "value", "contribution"],
      "properties": ["column": ["type": "string"], "value": ["type": "string"], "contribution": ["type": "number"]],
    ]
    let schemas: Object = [
      "Customer": ["type": "object", "additionalProperties": ["type": ["string", "number", "boolean", "null"]]],
      "ChurnPrediction": [
        "type": "object", "required": ["id", "probability", "decision", "decile", "reasons", "unseen_levels"],
        "properties": [
          "id": ["type": "string"], "probability": ["type": "number", "minimum": 0, "maximum": 1],
          "decision": ["type": "string", "enum": ["churn", "stay"]],
          "decile": ["type": "integer", "minimum": 1, "maximum": 10], "reasons": ["type": "array", "items": reason],
          "unseen_levels": ["type": "array", "items": ["type": "string"]],
        ],
      ],
      "RowError": [
        "type": "object", "required": ["id", "error"],
        "properties": ["id": ["type": "string"], "error": ["type": "string"], "column": ["type": "string"]],
      ],
      "ScoreAnswer": [
        "type": "object", "required": ["model", "threshold", "predictions"],
        "properties": [
          "model": ref("ModelReference"), "threshold": ["type": "number"],
          "predictions": ["type": "array", "items": ["oneOf": [ref("ChurnPrediction"), ref("RowError")]]],
        ],
      ],
    ]
    return (paths, schemas)
  }

  static var fraud: (paths: Object, schemas: Object) {
    var transactions = post(
      "Decides transactions in their order (one object, or an array of them), as `fraud stream` decides its lines; a transaction sent again gets the decision it was given.",
      body: ["oneOf": [ref("Transaction"), ["type": "array", "items": ref("Transaction"), "maxItems": 10000]]],
      json([
        "oneOf": [
          ref("FraudDecision"), ["type": "array", "items": ["oneOf": [ref("FraudDecision"), ref("Refusal")]]],
        ]
      ]))
    var responses = transactions["responses"] as? Object ?? [:]
    responses["422"] = json(ref("Refusal"), "A single transaction refused by the stream's clock rules (not entered)")
    transactions["responses"] = responses
    let paths: Object = [
      "/v1/transactions": ["post": transactions],
      "/v1/labels": [
        "post": post(
          "Labels of earlier transactions (chargebacks), as the stream's label rows.",
          body: ["oneOf": [ref("Label"), ["type": "array", "items": ref("Label"), "maxItems": 10000]]],
          json(ref("LabelsAnswer")))
      ],
      "/v1/state": [
        "get": get("The server's card and merchant state, as its writer sees it now.", json(ref("FraudState")))
      ],
    ]
    let text: Object = ["type": ["string", "number"]]
    let schemas: Object = [
      "Transaction": [
        "type": "object", "required": ["transaction_id", "timestamp", "card", "amount"],
        "properties": [
          "transaction_id": text, "timestamp": text, "card": text,
          "amount": ["type": ["number", "string"]], "merchant": ["type": ["string", "number", "null"]],
          "merchant_category": ["type": ["string", "number", "null"]], "country": ["type": ["string", "null"]],
          "lat": ["type": ["number", "string", "null"]], "lon": ["type": ["number", "string", "null"]],
          "label": ["type": ["boolean", "integer", "string", "null"]],
        ],
      ],
      "FraudDecision": [
        "type": "object", "required": ["transaction_id", "score", "decision", "reasons", "model_version"],
        "properties": [
          "transaction_id": ["type": "string"], "score": ["type": ["number", "null"], "minimum": 0, "maximum": 1],
          "decision": ["type": "string", "enum": ["approve", "review", "decline"]],
          "reasons": ["type": "array", "items": ["type": "string"]],
          "model_version": ["type": ["integer", "null"]],
        ],
      ],
      "Refusal": [
        "type": "object", "required": ["transaction_id", "error", "refused"],
        "properties": [
          "transaction_id": ["type": "string"], "error": ["type": "string"],
          "refused": ["type": "string", "enum": ["late", "ahead_of_clock", "entered_before"]],
        ],
      ],
      "Label": [
        "type": "object", "required": ["transaction_id", "fraud"],
        "properties": [
          "transaction_id": text, "fraud": ["type": ["boolean", "integer", "string"]], "time": text,
        ],
      ],
      "LabelsAnswer": [
        "type": "object", "required": ["received", "matched", "learned"],
        "properties": [
          "received": ["type": "integer"], "matched": ["type": "integer"], "learned": ["type": "integer"],
        ],
      ],
      "FraudState": [
        "type": "object",
        "required": [
          "transactions", "cards", "merchants", "labels_waiting", "labels_learned", "remembered_decisions", "learning",
        ],
        "properties": [
          "transactions": ["type": "integer"], "cards": ["type": "integer"], "merchants": ["type": "integer"],
          "labels_waiting": ["type": "integer"], "labels_learned": ["type": "integer"],
          "remembered_decisions": ["type": "integer"], "newest_transaction": ["type": "string"],
          "model_version": ["type": ["integer", "null"]], "learning": ["type": "boolean"],
        ],
      ],
    ]
    return (paths, schemas)
  }

  /// The document of `app`'s server, as pretty JSON with sorted keys.
  public static func text(_ app: App) throws -> String {
    let base = common
    let own = app == .recommend ? recommend : app == .churn ? churn : fraud
    let document: Object = [
      "openapi": "3.1.0",
      "info": [
        "title": "CommerceML \(app.rawValue) serve",
        "version": CommerceMLServiceVersion.current,
        "description": "JSON over HTTP; every error is {\"error\": \"...\"} with its status.",
      ],
      "paths": base.paths.merging(own.paths) { a, _ in a }.merging(
        ["/openapi.json": ["get": get("This document.", json(["type": "object"]), guarded: false)]]
      ) { a, _ in a },
      "components": [
        "schemas": base.schemas.merging(own.schemas) { a, _ in a },
        "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
      ],
      "security": [["bearer": [String]()]],
    ]
    let data = try JSONSerialization.data(
      withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}

/// The version the documents carry.
public enum CommerceMLServiceVersion {
  public static let current = "0.1.0"
}
