/** Seals and unseals secrets under the master key (src/secrets seal/unseal bound to the key by main.ts). */
export interface Sealer {
  seal(plaintext: string): string;
  unseal(sealed: string): Buffer;
}
