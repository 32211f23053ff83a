// Writes schema/pipeline.schema.json from the compiled zod schema. Run after a build:
//   npm run build && node scripts/export-schema.js      (or: npm run schema)
// The unit test test/unit/definition/json-schema.test.ts fails when the committed file is stale.
const fs = require('node:fs');
const path = require('node:path');
const { pipelineJsonSchema } = require('../dist/src/definition/json-schema.js');
const file = path.join(__dirname, '..', 'schema', 'pipeline.schema.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);

// The simulator's workload schema embeds the pipeline definition's: regenerate it too.
const { workloadJsonSchema } = require('../dist/src/simulator/json-schema.js');
const workloadFile = path.join(__dirname, '..', 'schema', 'workload.schema.json');
fs.writeFileSync(workloadFile, `${JSON.stringify(workloadJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), workloadFile)}`);
