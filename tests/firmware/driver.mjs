// Runs cue-puck firmware sessions on MicroPython's WebAssembly port.
//
// stdin: {"firmware": "<dir with main.py and puck/>", "fakes": "<dir with machine.py, ...>",
//         "sessions": [{"script": [...], "config": {...}, ...}, ...]}
// stdout: a JSON array with one result per session (see fakes/harness.py). Every session gets
// a fresh interpreter; the .py files are copied into its in-memory filesystem.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";

function copyTree(FS, src, dst) {
  FS.mkdirTree(dst);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "__pycache__" && entry.name !== "node_modules") copyTree(FS, from, `${dst}/${entry.name}`);
    } else if (entry.name.endsWith(".py")) {
      FS.writeFile(`${dst}/${entry.name}`, fs.readFileSync(from));
    }
  }
}

async function runSession(request, session) {
  const log = [];
  const mp = await loadMicroPython({
    heapsize: 4 * 1024 * 1024,
    stdout: (line) => log.push(line),
    stderr: (line) => log.push(line),
  });
  copyTree(mp.FS, request.firmware, "/fw");
  copyTree(mp.FS, request.fakes, "/fakes");
  mp.globals.set("SPEC", JSON.stringify(session));
  try {
    mp.runPython(
      "import sys\nsys.path[:0] = ['/fakes', '/fw']\nimport harness\nRESULT = harness.run_session(SPEC)\n",
    );
  } catch (error) {
    return { outcome: "driver-error", error: String(error), log };
  }
  const result = JSON.parse(mp.globals.get("RESULT"));
  result.log = log;
  return result;
}

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const results = [];
for (const session of request.sessions) results.push(await runSession(request, session));
process.stdout.write(JSON.stringify(results));
