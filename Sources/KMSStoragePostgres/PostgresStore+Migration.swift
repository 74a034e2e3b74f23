import Foundation
import KMSStorage
import Logging
import PostgresNIO

/// Filling an empty database with another store's rows (`swiftkms admin migrate`).
extension PostgresStore {
    /// Whether any table of `StoreRows.tables` holds a row.
    public func holdsData() async throws(StoreError) -> Bool {
        let exists = StoreRows.tables.map { "EXISTS (SELECT 1 FROM \($0))" }.joined(separator: " OR ")
        let row = try await rows(PostgresQuery(unsafeSQL: "SELECT \(exists)")).first
        return try decode(row.map { [$0] } ?? []) { try $0.decode(Bool.self) }.first ?? false
    }

    /// Inserts every chunk `produce` hands to its argument, in one transaction: the database
    /// gets all of them or, on any failure, none. Values are converted to each column's type
    /// (SQLite's integers to booleans, text to bytes where the column is `BYTEA`).
    public func importRows(_ produce: @Sendable (_ insert: (StoreRows.Chunk) async throws -> Void) async throws -> Void) async throws {
        try await primary.client.withConnection { connection in
            try await connection.transaction(logger) {
                var types: [String: String] = [:]
                let columns = try await connection.query(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()",
                    logger: logger)
                for try await (table, column, type) in columns.decode((String, String, String).self) { types["\(table).\(column)"] = type }
                try await produce { chunk in try await Self.insert(chunk, types: types, connection, logger) }
                // Checkpoints keep their IDs; the next one must come after them.
                try await connection.execute(
                    "SELECT setval(pg_get_serial_sequence('audit_checkpoint', 'id'), (SELECT max(id) FROM audit_checkpoint))", logger)
                try await connection.execute("UPDATE change_generation SET value = value + 1 WHERE id = 1", logger)
            }
        }
    }

    /// Rows at a time per statement: within PostgreSQL's 65,535 bound parameters.
    private static let rowsPerStatement = 200

    private static func insert(_ chunk: StoreRows.Chunk, types: [String: String], _ connection: PostgresConnection, _ logger: Logger) async throws {
        guard StoreRows.tables.contains(chunk.table) else { throw StoreError.notFound }
        let columnTypes = try chunk.columns.map { column in
            guard let type = types["\(chunk.table).\(column)"] else { throw MigrationError("\(chunk.table).\(column) is not a column here") }
            return type
        }
        var start = 0
        while start < chunk.rows.count {
            let rows = chunk.rows[start..<min(start + rowsPerStatement, chunk.rows.count)]
            var bindings = PostgresBindings()
            var tuples: [String] = []
            for row in rows {
                var placeholders: [String] = []
                for (value, type) in zip(row, columnTypes) {
                    try bind(value, as: type, &bindings)
                    placeholders.append("$\(bindings.count)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(chunk.table) (\(chunk.columns.joined(separator: ", "))) VALUES " + tuples.joined(separator: ", ")
            try await connection.execute(PostgresQuery(unsafeSQL: sql, binds: bindings), logger)
            start += rowsPerStatement
        }
    }

    private static func bind(_ value: StoreRows.Value, as type: String, _ bindings: inout PostgresBindings) throws {
        switch (value, type) {
        case (.null, _): bindings.appendNull()
        case (.integer(let v), "boolean"): bindings.append(v != 0)
        case (.integer(let v), "integer"): bindings.append(Int32(truncatingIfNeeded: v))
        case (.integer(let v), "bigint"): bindings.append(v)
        case (.real(let v), "double precision"): bindings.append(v)
        case (.text(let v), "text"): bindings.append(v)
        case (.text(let v), "bytea"): bindings.append(ByteBuffer(bytes: Array(v.utf8)))
        case (.blob(let v), "bytea"): bindings.append(ByteBuffer(bytes: v))
        default:
            // The kind only: a value may be sealed material.
            let kind =
                switch value {
                case .null: "null"
                case .integer: "integer"
                case .real: "real"
                case .text: "text"
                case .blob: "blob"
                }
            throw MigrationError("a \(kind) value cannot go in a column of type \(type)")
        }
    }
}

/// A row that does not fit this database's schema.
public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
