// Evaluates IAM requests with @cloud-copilot/iam-simulate (AGPL-3.0, a test-only dependency that is never
// shipped with the product). Reads a JSON array of simulations on stdin, writes one result per simulation:
// {"decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied", "ignored": [context keys not applicable]}
// or {"error": "..."} when the simulator refuses the input (a malformed policy, an unknown action).
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const results = []
for (const simulation of simulations) {
  const response = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (response.resultType === 'error') {
    results.push({ error: JSON.stringify(response.errors) })
  } else if (response.resultType === 'single') {
    results.push({ decision: response.overallResult, ignored: response.result.ignoredContextKeys ?? [] })
  } else {
    results.push({ decision: response.overallResult, ignored: [] })
  }
}
process.stdout.write(JSON.stringify(results))
