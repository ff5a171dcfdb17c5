// cluster-key-slot (ioredis's own) ships no types: the hash slot Redis Cluster gives a key.
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
