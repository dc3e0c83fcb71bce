/**
 * `Symbol.dispose` for consumers whose TypeScript `lib` lacks `esnext.disposable`
 * (the default lib does): the declarations use it as a method key, so they declare
 * it here, as `@types/node` does. At run time the classes fall back to
 * `Symbol.for('Symbol.dispose')` where the engine has no `Symbol.dispose`.
 * @internal
 */
declare global {
  interface SymbolConstructor {
    /** The method `using` declarations call at the end of their scope. */
    readonly dispose: unique symbol;
  }
}

export {};
