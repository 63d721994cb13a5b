import selfsigned from "selfsigned";

/**
 * A throw-away certificate for 127.0.0.1, made at start-up, so the SDKs can talk HTTPS to the
 * emulator with the certificate passed as a CA and no change to their pipelines.
 */
export async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await selfsigned.generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
