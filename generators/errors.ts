export class GeneratorOptionsError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'GeneratorOptionsError';
  }
}
