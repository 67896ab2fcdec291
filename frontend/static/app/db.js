// IndexedDB: one database, a key-value store for cached data and one store for the outbox.
// Bytes are kept as ArrayBuffers (WebKit has had bugs with Blobs in IndexedDB).

const NAME = "weifang-inspect";
const VERSION = 1;
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "id" });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => { opening = null; reject(req.error); };
    });
  }
  return opening;
}

async function run(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    // Strict durability: a photo is on disk before we tell the inspector it is saved.
    const tx = db.transaction(store, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
    const req = fn(tx.objectStore(store));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

export const get = (store, key) => run(store, "readonly", (s) => s.get(key));
export const put = (store, value, key) =>
  run(store, "readwrite", (s) => (key === undefined ? s.put(value) : s.put(value, key)));
export const del = (store, key) => run(store, "readwrite", (s) => s.delete(key));
export const all = (store) => run(store, "readonly", (s) => s.getAll());

export const kvGet = (key) => get("kv", key);
export const kvSet = (key, value) => put("kv", value, key);
export const kvDel = (key) => del("kv", key);
