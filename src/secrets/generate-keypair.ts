import ssh2 from 'ssh2';

/** An ed25519 keypair in OpenSSH formats. */
export interface Keypair {
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` ... */
  privateKey: string;
}

/** Generates a fresh ed25519 keypair; `comment` ends the public key line (letters, digits, @._-). */
export function generateKeypair(comment: string): Keypair {
  const { public: publicKey, private: privateKey } = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { publicKey: publicKey.trim(), privateKey };
}
