import Testing

@testable import KMSStoragePostgres

struct PostgresDatabaseURLTests {
    @Test func oneHostWithEverything() throws {
        let url = try PostgresDatabaseURL("postgres://kms%40app:p%2Fss@db.example:6432/kms%20prod?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(url.username == "kms@app")
        #expect(url.password == "p/ss")
        #expect(url.endpoints == [.init(host: "db.example", port: 6432)])
        #expect(url.database == "kms prod")
        #expect(url.tlsMode == .verifyFull)
        #expect(url.rootCertificateFile == "/etc/ca.pem")
        #expect(!url.description.contains("p/ss") && !url.description.contains("p%2Fss"))
    }

    @Test func aPrimaryAndItsStandbys() throws {
        let url = try PostgresDatabaseURL("postgresql://kms@10.0.0.1,10.0.0.2:5433,[::1]:5434/kms?target_session_attrs=read-write")
        #expect(url.endpoints == [.init(host: "10.0.0.1", port: 5432), .init(host: "10.0.0.2", port: 5433), .init(host: "::1", port: 5434)])
        #expect(url.password == nil)
        #expect(url.tlsMode == .prefer)
    }

    @Test(arguments: [
        "mysql://kms@db/kms", "postgres://db/kms", "postgres://kms@db", "postgres://kms@db/", "postgres://kms@db:0/kms",
        "postgres://kms@db:99999/kms", "postgres://kms@db:x/kms", "postgres://kms@,db/kms", "postgres://kms@[::1/kms",
        "postgres://kms@db/kms?sslmode=verify", "postgres://kms@db/kms?ssl=true", "postgres://kms@db/kms?target_session_attrs=any",
        "postgres://kms:secret%zz@db/kms",
    ])
    func refused(_ text: String) {
        #expect(throws: PostgresDatabaseURL.Invalid.self) { try PostgresDatabaseURL(text) }
    }

    @Test func aRefusalNeverShowsThePassword() {
        do {
            _ = try PostgresDatabaseURL("postgres://kms:hunter2@db/kms?sslmode=bogus")
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }
}
