// Runs a wasm32-wasip1 program under Node's WASI (V8): node run_wasm_bench.mjs program.wasm
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv, env } from "node:process";

const wasi = new WASI({ version: "preview1", args: argv.slice(2), env });
const module = await WebAssembly.compile(await readFile(argv[2]));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance);
