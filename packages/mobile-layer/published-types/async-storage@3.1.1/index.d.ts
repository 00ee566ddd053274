export type { AsyncStorage } from "./AsyncStorage";
export { createAsyncStorage } from "./createAsyncStorage";
export { AsyncStorageError } from "./AsyncStorageError";
declare const _default: import("./AsyncStorage").AsyncStorage;
export default _default;
//# sourceMappingURL=index.d.ts.map