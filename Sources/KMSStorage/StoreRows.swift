/// A store's contents as rows of its tables, for moving a deployment from one store to another
/// (`swiftkms admin migrate`). Both stores have these tables with the same columns; rows are
/// copied as they are, so audit records, chain heads, checkpoints and principal incarnations
/// stay byte for byte what they were (and still verify). Wrapped material stays wrapped.
public enum StoreRows {
    /// The tables copied, parents before the rows that refer to them. What each store derives
    /// (the change generation, SQLite's key counts) is not copied.
    public static let tables = [
        "hsm_cluster", "custom_key_store", "kms_key", "key_material", "import_parameters", "alias", "key_tag", "key_grant",
        "principal", "access_key", "identity_policy", "principal_tag",
        "audit_signing_key", "audit_chain", "audit_event", "audit_resource", "audit_segment", "audit_segment_key", "audit_segment_term",
        "audit_checkpoint",
    ]

    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    /// Some rows of one table, each with a value per column.
    public struct Chunk: Sendable {
        public var table: String
        public var columns: [String]
        public var rows: [[Value]]

        public init(table: String, columns: [String], rows: [[Value]]) {
            self.table = table
            self.columns = columns
            self.rows = rows
        }
    }
}
