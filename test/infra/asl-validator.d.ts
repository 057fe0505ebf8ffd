// asl-validator ships no types: the part of its JS API the tests use.
declare module 'asl-validator' {
  function aslValidator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): { isValid: boolean; errors: Array<{ 'Error code': string; Message: string }>; errorsText(separator?: string): string };
  export = aslValidator;
}
