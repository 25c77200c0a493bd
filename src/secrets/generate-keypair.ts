import ssh2 from 'ssh2';

/** An ed25519 keypair in OpenSSH formats. */
export interface Keypair {
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` ... */
  privateKey: string;
}

/** `string "ssh-ed25519"` then `string <32-byte public key>`: the public key blob's only valid length. */
const ED25519_BLOB_LENGTH = 4 + 'ssh-ed25519'.length + 4 + 32;

/**
 * Generates a fresh ed25519 keypair; `comment` ends the public key line (letters, digits, @._-).
 *
 * ssh2 1.17's encoder strips every leading zero byte of the public key (it means to strip the
 * BIT STRING's unused-bits byte), so about 1 key in 256 comes out with a 31-byte public key that
 * OpenSSH refuses ("Load key ...: error in libcrypto"). Such a key is thrown away and another made:
 * excluding 1/256 of the key space costs well under a hundredth of a bit.
 */
export function generateKeypair(comment: string): Keypair {
  for (;;) {
    const { public: publicKey, private: privateKey } = ssh2.utils.generateKeyPairSync('ed25519', {
      comment,
    });
    if (publicBlobLength(publicKey) === ED25519_BLOB_LENGTH)
      return { publicKey: publicKey.trim(), privateKey };
  }
}

function publicBlobLength(publicKey: string): number {
  return Buffer.from(publicKey.split(' ')[1] ?? '', 'base64').length;
}
