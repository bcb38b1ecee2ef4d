// Stops the control plane's processes (its own PIDs only) and removes its directory, whatever the tests did.
export default async function teardown() {
  await globalThis.__controlPlane?.stop();
}
