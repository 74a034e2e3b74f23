import KMSService

extension ServiceModel {
    /// CloudTrail's `requestParameters` for a request body: the members the model knows,
    /// named in lowerCamelCase, without blobs (plaintext, ciphertext, messages, signatures,
    /// key material, import tokens), without members the model marks sensitive, and without
    /// grant tokens. Map keys (an encryption context's) are kept as they are.
    func auditParameters(_ value: JSONValue, shapeName: String) -> JSONValue {
        guard let shape = shapes[shapeName] else { return .null }
        switch (shape.kind, value) {
        case (.structure, .object(let members)):
            var out: [String: JSONValue] = [:]
            for (name, member) in members {
                guard name != "GrantTokens", name != "GrantToken", let memberShapeName = shape.members[name],
                    let memberShape = shapes[memberShapeName],
                    memberShape.kind != .blob, !memberShape.sensitive
                else { continue }
                out[name.prefix(1).lowercased() + name.dropFirst()] = auditParameters(member, shapeName: memberShapeName)
            }
            return .object(out)
        case (.list, .array(let items)):
            guard let member = shape.member else { return .null }
            return .array(items.map { auditParameters($0, shapeName: member) })
        case (.map, .object(let entries)):
            guard let valueShape = shape.value else { return .null }
            return .object(entries.mapValues { auditParameters($0, shapeName: valueShape) })
        case (.blob, _):
            return .null
        case (_, .object), (_, .array):
            return .null
        default:
            return shape.sensitive ? .null : value
        }
    }

    /// `requestParameters` of an operation's request body (`null` when it is not JSON).
    func auditParameters(operation: String, body: JSONValue?) -> JSONValue {
        guard let body, let inputShape = operations[operation] ?? nil else { return .null }
        var parameters = auditParameters(body, shapeName: inputShape)
        // CloudTrail always shows the algorithm of a Decrypt, given or not.
        if operation == "Decrypt", case .object(var members) = parameters, members["encryptionAlgorithm"] == nil {
            members["encryptionAlgorithm"] = .string(EncryptionAlgorithm.symmetricDefault.rawValue)
            parameters = .object(members)
        }
        return parameters
    }
}
