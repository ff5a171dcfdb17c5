// class-transformer's metadata storage (where `@Type` is kept) ships as JavaScript under cjs/ and as types under types/.
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
