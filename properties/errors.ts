export class UnknownPropertyError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`unknown property "${name}"; choose from: ${known.join(', ')}`);
    this.name = 'UnknownPropertyError';
  }
}
