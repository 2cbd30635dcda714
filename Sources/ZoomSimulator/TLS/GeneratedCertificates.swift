import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A throw-away CA and a server certificate it signed, so `wss://` works on loopback. The leaf has DNS SANs for
/// `localhost` and the host literal because Zoom's SDK only matches DNS-type SANs, even for `127.0.0.1`.
struct GeneratedCertificates: Sendable {
    let caPEM: String
    let leafPEM: String
    let leafKeyPEM: String

    /// - Parameter ipSAN: whether the leaf carries an IP SAN (the host when it is an IPv4 literal, else
    ///   127.0.0.1); false makes a certificate that a client connecting by IP address must refuse.
    init(host: String, ipSAN: Bool = true) throws {
        let caKey = P256.Signing.PrivateKey()
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        let caName = try DistinguishedName { CommonName("rtms-relay simulator CA") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(30 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        var names: [GeneralName] = [.dnsName("localhost"), .dnsName(host)]
        if ipSAN {
            let octets = host.split(separator: ".").compactMap { UInt8($0) }
            names.append(.ipAddress(ASN1OctetString(contentBytes: octets.count == 4 ? ArraySlice(octets) : [127, 0, 0, 1])))
        }
        let leafName = try DistinguishedName { CommonName(host) }
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(30 * 86400),
            issuer: caName, subject: leafName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey))
        caPEM = try ca.serializeAsPEM().pemString
        leafPEM = try leaf.serializeAsPEM().pemString
        leafKeyPEM = leafKey.pemRepresentation
    }

    /// A NIOSSL server configuration presenting the leaf (and the CA as chain).
    func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array((leafPEM + "\n" + caPEM).utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(leafKeyPEM.utf8), format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
    }
}
