// The MoveCheck dynamic provider, driven for real (official @ovhcloud/node-ovh client, signed
// HTTPS requests) against the OVH stand-in, which checks each request against the official
// schemas and answers ipCanBeMovedTo with OVH's move rules. Each refusal names the stack key and
// the reason; nothing the provider sends changes anything (GET only).
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { changedKeys, checkMove, moveCheckProvider, type MoveCheckInputs, type MoveCheckOutputs } from '../../../components/network/moveCheckProvider';
import { DEFAULT_RETRY, OvhApi, ovhClientOptions, route } from '../../../components/network/ovhApiClient';
import { type OvhStandIn } from '../../support/ovhStandIn';
import { useOvhStandInEnv } from '../../support/ovhStandInEnv';

const CAN_MOVE = '/dedicated/server/{serviceName}/ipCanBeMovedTo';

let standIn: OvhStandIn;
let n = 0;
/** A fresh source server, destination server and /29 for each test. */
let from = '';
let to = '';
let block = '';
let firstRequest = 0;

const ovh = useOvhStandInEnv();
beforeAll(() => {
  standIn = ovh.standIn();
});

beforeEach(() => {
  n++;
  from = `ns${200000 + n}.ip-198-51-100.eu`;
  to = `ns${300000 + n}.ip-198-51-100.eu`;
  block = `10.${n}.0.8/29`;
  firstRequest = standIn.requests.length;
});

afterEach(() => {
  expect(standIn.violations).toEqual([]);
  const sent = standIn.requests.slice(firstRequest);
  expect(sent.filter((r) => r.route === null).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  // A check never changes anything at OVH.
  expect(sent.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([]);
});

function inputs(over: Partial<MoveCheckInputs> = {}): MoveCheckInputs {
  return { block, destinationType: 'dedicatedServer', destination: to, needsVirtualMacs: true, dropVirtualMacs: false, subject: 'ipBlocks.web', retry: { attempts: 2, baseDelayMs: 10 }, ...over };
}

const routes = () => standIn.requests.slice(firstRequest).map((r) => r.route);

async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('expected the check to refuse');
}

/** The n-th address of the test's block. */
const at = (i: number) => `10.${n}.0.${8 + i}`;
const mac = (i: number) => `02:00:${n.toString(16).padStart(2, '0')}:00:00:${i.toString(16).padStart(2, '0')}`;

describe('MoveCheck to a dedicated server', () => {
  it('passes a move OVH allows, counting the MACs that go with the block, and says what it found', async () => {
    standIn.addServer(from);
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: from });
    standIn.seedVirtualMac(from, mac(1), 'ovh', [{ ipAddress: at(1), virtualMachineName: 'a' }]);
    standIn.seedVirtualMac(from, mac(2), 'ovh', [{ ipAddress: '192.0.2.200', virtualMachineName: 'elsewhere' }]);
    const out = await checkMove(inputs({ macLimit: 2 }));
    expect(out).toMatchObject({ routedTo: from, moves: true, virtualMacs: 1, destinationVirtualMacs: 0, virtualMacLimit: 2 });
    expect(routes()).toContain(CAN_MOVE);
    expect(standIn.ipRoutedTo(block)).toBe(from);
  });

  it('already routed there: nothing moves, and OVH is not asked whether it could', async () => {
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: to });
    const out = await checkMove(inputs());
    expect(out).toMatchObject({ routedTo: to, moves: false });
    expect(routes()).not.toContain(CAN_MOVE);
  });

  it('already routed there, to a server without virtual MACs, with a bridged IP: refused with vmac.supported', async () => {
    standIn.addServer(to, { vmacSupported: false });
    standIn.addIp(block, { routedTo: to });
    const message = await refusal(checkMove(inputs({ subject: 'endpoints.proxy.ip' })));
    expect(message).toMatch(/^endpoints\.proxy\.ip: /);
    expect(message).toContain(`${to} takes no virtual MAC`);
    expect(message).toContain('vmac.supported is false');
    // With no bridged IP, the same block passes.
    await expect(checkMove(inputs({ needsVirtualMacs: false }))).resolves.toMatchObject({ moves: false });
  });

  it('to a server without virtual MACs, with a bridged IP: refused before OVH is asked (its own check would let a block without MACs through)', async () => {
    standIn.addServer(from);
    standIn.addServer(to, { vmacSupported: false });
    standIn.addIp(block, { routedTo: from });
    const message = await refusal(checkMove(inputs()));
    expect(message).toMatch(/^ipBlocks\.web: 10\.\d+\.0\.8\/29 is not routed to /);
    expect(message).toContain('vmac.supported is false');
    expect(routes()).not.toContain(CAN_MOVE);
  });

  it('across regions: OVH refuses, and the refusal names the region rule', async () => {
    standIn.addServer(from, { region: 'eu-west-par' });
    standIn.addServer(to, { region: 'eu-west-gra' });
    standIn.addIp(block, { routedTo: from, regions: ['eu-west-par'] });
    const message = await refusal(checkMove(inputs()));
    expect(message).toMatch(/^ipBlocks\.web: /);
    expect(message).toContain(`OVH says it cannot be moved there (GET /dedicated/server/${to}/ipCanBeMovedTo?ip=${block})`);
    expect(message).toContain(`the block is in eu-west-par and ${to} is in eu-west-gra: a block stays in its region`);
  });

  it("a consumer key that may not ask (403) is the API's error, not a refusal of the move", async () => {
    standIn.addServer(from);
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: from });
    standIn.failNext({ method: 'GET', route: CAN_MOVE, status: 403, message: 'This call has not been granted' });
    const message = await refusal(checkMove(inputs()));
    expect(message).toContain('HTTP 403');
    expect(message).toContain('This call has not been granted');
    expect(message).not.toContain('refused before anything moves');
  });

  it('within the French trio: the regions differ and the move passes', async () => {
    standIn.addServer(from, { region: 'eu-west-rbx' });
    standIn.addServer(to, { region: 'eu-west-gra' });
    standIn.addIp(block, { routedTo: from, regions: ['eu-west-rbx'] });
    await expect(checkMove(inputs())).resolves.toMatchObject({ moves: true });
  });

  it("past the stack's MAC limit: the destination's MACs plus the block's are refused", async () => {
    standIn.addServer(from);
    standIn.addServer(to, { hardware: { processorName: 'Intel Xeon E-2386G' } });
    standIn.addIp(block, { routedTo: from });
    standIn.seedVirtualMac(from, mac(1), 'ovh', [{ ipAddress: at(1), virtualMachineName: 'a' }]);
    standIn.seedVirtualMac(from, mac(2), 'ovh', [{ ipAddress: at(2), virtualMachineName: 'b' }]);
    standIn.seedVirtualMac(to, mac(9), 'ovh', [{ ipAddress: '192.0.2.9', virtualMachineName: 'c' }]);
    const message = await refusal(checkMove(inputs({ macLimit: 2 })));
    expect(message).toMatch(/^ipBlocks\.web: /);
    expect(message).toContain(`${to} has 1 while the block brings 2`);
    expect(message).toContain('3 would pass the limit of 2');
    expect(message).toContain("the stack's virtualMacLimit");
    // OVH itself would have let it through: the stand-in's server has no limit of its own.
    expect(routes()).toContain(CAN_MOVE);
    // Without the stack's limit, that hardware has none known: the move passes.
    await expect(checkMove(inputs())).resolves.toMatchObject({ moves: true, virtualMacs: 2 });
  });

  it("past the hardware's limit (a third-generation Advance server takes 32)", async () => {
    standIn.addServer(from);
    standIn.addServer(to); // AMD EPYC 4344P
    standIn.addIp(block, { routedTo: from });
    standIn.seedVirtualMac(from, mac(1), 'ovh', [{ ipAddress: at(1), virtualMachineName: 'a' }]);
    for (let i = 0; i < 32; i++) standIn.seedVirtualMac(to, mac(100 + i), 'ovh', [{ ipAddress: `192.0.2.${i + 1}`, virtualMachineName: `v${i}` }]);
    const message = await refusal(checkMove(inputs({ needsVirtualMacs: false })));
    expect(message).toContain(`${to} has 32 while the block brings 1`);
    expect(message).toContain('third-generation Advance');
  });

  it('a lone IP that OVH holds in a bigger block: refused, naming that block', async () => {
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: null });
    const message = await refusal(checkMove(inputs({ block: `${at(2)}/32`, subject: 'endpoints.proxy.ip' })));
    expect(message).toMatch(/^endpoints\.proxy\.ip: /);
    expect(message).toContain(`OVH holds it in the block ${block}, and OVH moves only whole blocks`);
  });

  it('a block the account does not have: refused', async () => {
    standIn.addServer(to);
    const message = await refusal(checkMove(inputs()));
    expect(message).toContain(`the OVH account has no block ${block}`);
  });
});

describe('MoveCheck into a vRack', () => {
  it("refuses a block whose virtual MACs the vRack would drop, unless dropVirtualMacs", async () => {
    const vrack = `pn-${700000 + n}`;
    standIn.addServer(from);
    standIn.addVrack(vrack, { servers: [from] });
    standIn.addIp(block, { routedTo: from });
    standIn.seedVirtualMac(from, mac(3), 'ovh', [{ ipAddress: at(3), virtualMachineName: 'a' }]);
    const into = inputs({ destinationType: 'vrack', destination: vrack, needsVirtualMacs: false, subject: 'ipBlocks.rack' });
    const message = await refusal(checkMove(into));
    expect(message).toMatch(/^ipBlocks\.rack: /);
    expect(message).toContain(`on ${from} it has 1: ${mac(3)} (${at(3)})`);
    expect(message).toContain('set ipBlocks.rack.dropVirtualMacs true');
    await expect(checkMove({ ...into, dropVirtualMacs: true })).resolves.toMatchObject({ routedTo: from, moves: true, virtualMacs: 1 });
    expect(Object.keys(standIn.virtualMacs(from))).toEqual([mac(3)]);
  });

  it('passes a block with no virtual MAC, and one already in the vRack', async () => {
    const vrack = `pn-${800000 + n}`;
    standIn.addServer(from);
    standIn.addIp(block, { routedTo: from });
    standIn.addVrack(vrack, { servers: [from] });
    const into = inputs({ destinationType: 'vrack', destination: vrack, needsVirtualMacs: false, subject: 'ipBlocks.rack' });
    await expect(checkMove(into)).resolves.toMatchObject({ moves: true, virtualMacs: 0 });
    const other = `10.${n}.1.0/29`;
    standIn.addIp(other, { routedTo: null });
    standIn.addVrack(`pn-${900000 + n}`, { ips: [other] });
    await expect(checkMove({ ...into, block: other, destination: `pn-${900000 + n}` })).resolves.toMatchObject({ moves: false });
  });
});

describe('MoveCheck provider', () => {
  it('an input change is an update that checks again; only the retry bounds change nothing checked; never a replacement', async () => {
    const olds = { ...inputs(), routedTo: to, moves: false, virtualMacs: 0 } as MoveCheckOutputs;
    expect(changedKeys(olds, inputs())).toEqual([]);
    expect(changedKeys(olds, inputs({ block: '10.0.0.0/29', macLimit: 4 }))).toEqual(['block', 'macLimit']);
    const diff = await moveCheckProvider.diff!('id', olds, inputs({ destination: 'ns9.ip-198-51-100.eu' }));
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    expect(await moveCheckProvider.diff!('id', olds, inputs())).toMatchObject({ changes: false });
    // A check that let the block move is not run again on the next up; a refresh that found it elsewhere is.
    const letMove = { ...olds, routedTo: from, moves: true } as MoveCheckOutputs;
    expect(await moveCheckProvider.diff!('id', letMove, inputs())).toMatchObject({ changes: false });
    expect(await moveCheckProvider.diff!('id', { ...letMove, foundElsewhere: true }, inputs())).toMatchObject({ changes: true, replaces: [] });
    // Operational values and new provider code alone check nothing again.
    expect(await moveCheckProvider.diff!('id', olds, inputs({ retry: { attempts: 9, baseDelayMs: 1 } }))).toMatchObject({ changes: false });
    expect(await moveCheckProvider.diff!('id', olds, inputs({ retry: undefined }))).toMatchObject({ changes: false });
    const code = (o: object, c: string) => ({ ...o, __provider: c });
    expect(await moveCheckProvider.diff!('id', code(olds, 'code at create'), code(inputs(), 'code with a fix'))).toMatchObject({ changes: false });

    standIn.addServer(from);
    standIn.addServer(to, { vmacSupported: false });
    standIn.addIp(block, { routedTo: from });
    await expect(moveCheckProvider.update!('id', olds, inputs())).rejects.toThrow(/vmac\.supported is false/);
    // Delete only checked: it sends nothing.
    const before = standIn.requests.length;
    await moveCheckProvider.delete!('id', olds);
    expect(standIn.requests.length).toBe(before);
  });
});

/**
 * The block moved by hand, as an operator would in the API (POST /ip/{ip}/move, then the task
 * read until done), outside the window afterEach checks for writes.
 */
async function moveByHand(target: string): Promise<void> {
  const api = new OvhApi(ovhClientOptions({}), DEFAULT_RETRY, () => undefined);
  const task = await api.request<{ taskId: number }>('POST', route('/ip/{ip}/move', { ip: block }), { to: target });
  for (let reads = 0; reads < 100; reads++) {
    const now = await api.request<{ status: string }>('GET', route('/ip/{ip}/task/{taskId}', { ip: block, taskId: String(task.taskId) }));
    if (now.status === 'done') break;
    if (now.status !== 'todo' && now.status !== 'doing' && now.status !== 'init') throw new Error(`the hand move ended ${now.status}`);
  }
  expect(standIn.ipRoutedTo(block)).toBe(target);
  firstRequest = standIn.requests.length;
}

describe('MoveCheck refresh', () => {
  it('a block moved by hand: read shows where it is, diff is an update, and the update checks the move back', async () => {
    standIn.addServer(from);
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: to });
    const created = await moveCheckProvider.create!(inputs());
    const stored = created.outs as MoveCheckOutputs;
    expect(stored).toMatchObject({ routedTo: to, moves: false });

    await moveByHand(from);
    const read = await moveCheckProvider.read!(created.id, stored);
    expect(read.id).toBe(created.id);
    expect(read.props).toMatchObject({ ...inputs(), routedTo: from, moves: true, foundElsewhere: true });
    expect(routes().filter((r) => r !== '/auth/time')).toEqual(['/ip/{ip}']);
    const diff = await moveCheckProvider.diff!(created.id, read.props as MoveCheckOutputs, inputs());
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    expect(diff.deleteBeforeReplace).toBeFalsy();

    const checked = await moveCheckProvider.update!(created.id, read.props as MoveCheckOutputs, inputs());
    expect(checked.outs).toMatchObject({ routedTo: from, moves: true });
    expect(checked.outs).not.toHaveProperty('foundElsewhere');
    expect(routes()).toContain(CAN_MOVE);
    // The routing resource moves it back; the next up is quiet, and so is the next refresh.
    await moveByHand(to);
    const after = checked.outs as MoveCheckOutputs;
    expect(await moveCheckProvider.diff!(created.id, after, inputs())).toMatchObject({ changes: false });
    const reread = (await moveCheckProvider.read!(created.id, after)).props as MoveCheckOutputs;
    expect(reread).toMatchObject({ routedTo: to, moves: false });
    expect(reread).not.toHaveProperty('foundElsewhere');
    expect(await moveCheckProvider.diff!(created.id, reread, inputs())).toMatchObject({ changes: false });
  });

  it('a block moved by hand and given a virtual MAC there: the update refuses the move back past the MAC limit', async () => {
    standIn.addServer(from);
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: to });
    standIn.seedVirtualMac(to, mac(9), 'ovh', [{ ipAddress: '192.0.2.9', virtualMachineName: 'c' }]);
    const created = await moveCheckProvider.create!(inputs({ macLimit: 1 }));
    expect(created.outs).toMatchObject({ routedTo: to, moves: false });

    await moveByHand(from);
    standIn.seedVirtualMac(from, mac(1), 'ovh', [{ ipAddress: at(1), virtualMachineName: 'a' }]);
    const read = (await moveCheckProvider.read!(created.id, created.outs as MoveCheckOutputs)).props as MoveCheckOutputs;
    expect(read).toMatchObject({ routedTo: from, moves: true });
    expect(await moveCheckProvider.diff!(created.id, read, inputs({ macLimit: 1 }))).toMatchObject({ changes: true, replaces: [] });
    const message = await refusal(moveCheckProvider.update!(created.id, read, inputs({ macLimit: 1 })));
    expect(message).toMatch(/^ipBlocks\.web: /);
    expect(message).toContain(`${to} has 1 while the block brings 1`);
    expect(message).toContain('2 would pass the limit of 1');
    expect(standIn.ipRoutedTo(block)).toBe(from);
  });

  it('no drift: read finds the block where it was checked, and diff changes nothing', async () => {
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: to });
    const created = await moveCheckProvider.create!(inputs());
    const read = await moveCheckProvider.read!(created.id, created.outs as MoveCheckOutputs);
    expect(read.props).toEqual(created.outs);
    expect(await moveCheckProvider.diff!(created.id, read.props as MoveCheckOutputs, inputs())).toMatchObject({ changes: false });
    expect(standIn.ipRoutedTo(block)).toBe(to);
  });

  it('a block the account no longer holds: read shows it routed nowhere, and the update says why', async () => {
    standIn.addServer(to);
    standIn.addIp(block, { routedTo: to });
    const stored = (await moveCheckProvider.create!(inputs())).outs as MoveCheckOutputs;
    const gone = { ...stored, block: `10.${n}.9.0/29` };
    const read = (await moveCheckProvider.read!('id', gone)).props as MoveCheckOutputs;
    expect(read).toMatchObject({ routedTo: null, moves: true });
    const message = await refusal(moveCheckProvider.update!('id', read, inputs({ block: gone.block })));
    expect(message).toContain(`the OVH account has no block ${gone.block}`);
  });
});
