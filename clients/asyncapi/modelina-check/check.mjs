// CI: Modelina (a generator client teams use) must name every model of the AsyncAPI document.
// Usage: node check.mjs <asyncapi.json or http(s) URL>. Fails listing any AnonymousSchema_N model.
import { readFile } from "node:fs/promises";
import { TypeScriptGenerator } from "@asyncapi/modelina";

const source = process.argv[2];
if (!source) throw new Error("usage: node check.mjs <asyncapi.json | URL>");
const text = /^https?:/.test(source) ? await (await fetch(source)).text() : await readFile(source, "utf8");
const models = await new TypeScriptGenerator({ modelType: "interface" }).generate(JSON.parse(text));
const names = models.map((model) => model.modelName);
const anonymous = names.filter((name) => /^AnonymousSchema/.test(name));
console.log(`${names.length} models: ${names.join(", ")}`);
if (anonymous.length) {
  console.error(`${anonymous.length} anonymous: ${anonymous.join(", ")}`);
  process.exit(1);
}
