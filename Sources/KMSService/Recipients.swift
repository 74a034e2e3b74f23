import Foundation

/// Nitro Enclaves recipients: requests whose answer goes, encrypted, to an enclave.
extension KeyManagementService {
    /// The request's `Recipient`, verified against the configured attestation root at the
    /// current time (its KeyEncryptionAlgorithm can only be RSAES_OAEP_SHA_256, which the
    /// model's validation enforces). Every kind of bad document is one `ValidationException`; without a configured root
    /// (`serve --attestation-root-certificate`) a Recipient is `UnsupportedOperationException`.
    /// The request's audit event records the enclave (`additionalEventData.recipient`).
    public func verifiedRecipient(attestationDocument: Data?, _ context: RequestContext) throws(KMSError) -> RecipientAttestation {
        guard let attestationRoot else {
            throw KMSError(
                .unsupportedOperation,
                "Recipient needs an attestation root certificate: this server was started without --attestation-root-certificate.")
        }
        guard let attestationDocument else { throw KMSError.validation("Recipient must include an AttestationDocument.") }
        let recipient = try RecipientAttestation.verify(Array(attestationDocument), root: attestationRoot, at: clock.now())
        context.audit.noteRecipient(recipient)
        return recipient
    }
}
