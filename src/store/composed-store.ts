import type { MemoryStore } from './memory-store.ts';
import type {
  ApiKeyStore,
  ApprovalStore,
  AuditStore,
  EvalResultStore,
  EvalScoreStore,
  LeaseStore,
  PolicySetStore,
  RegistryStore,
  RunLogStore,
  Store,
} from './store.ts';
import type { TeamStore } from './team-store.ts';

/** A store's parts, one per concept, each its own file in `sqlite/` and `postgres/`. */
export interface StoreParts {
  runs: RunLogStore;
  leases: LeaseStore;
  registry: RegistryStore;
  policySets: PolicySetStore;
  apiKeys: ApiKeyStore;
  audit: AuditStore;
  approvals: ApprovalStore;
  evalScores: EvalScoreStore;
  evalResults: EvalResultStore;
  memories: MemoryStore;
  teams: TeamStore;
}

/**
 * A `Store` made of its parts: every method is its part's. Both stores are one of these, so
 * what the store offers is said once, here and in `store.ts`.
 */
export abstract class ComposedStore implements Store {
  readonly memories: MemoryStore;
  readonly teams: TeamStore;
  readonly #p: StoreParts;

  constructor(parts: StoreParts) {
    this.#p = parts;
    this.memories = parts.memories;
    this.teams = parts.teams;
  }

  abstract close(): Promise<void>;

  append: Store['append'] = (events, fence) => this.#p.runs.append(events, fence);
  readEvents: Store['readEvents'] = (runId, options) => this.#p.runs.readEvents(runId, options);
  getRun: Store['getRun'] = (idOrPrefix) => this.#p.runs.getRun(idOrPrefix);
  listRuns: Store['listRuns'] = (options) => this.#p.runs.listRuns(options);
  queryRuns: Store['queryRuns'] = (query) => this.#p.runs.queryRuns(query);

  getLease: Store['getLease'] = (runId) => this.#p.leases.getLease(runId);
  claimLease: Store['claimLease'] = (runId, owner, expectedOwner, at) =>
    this.#p.leases.claimLease(runId, owner, expectedOwner, at);
  renewLease: Store['renewLease'] = (runId, owner, at) =>
    this.#p.leases.renewLease(runId, owner, at);
  releaseLease: Store['releaseLease'] = (runId, owner) => this.#p.leases.releaseLease(runId, owner);
  listLeases: Store['listLeases'] = () => this.#p.leases.listLeases();

  putServer: Store['putServer'] = (record) => this.#p.registry.putServer(record);
  getServer: Store['getServer'] = (name) => this.#p.registry.getServer(name);
  listServers: Store['listServers'] = () => this.#p.registry.listServers();
  deleteServer: Store['deleteServer'] = (name) => this.#p.registry.deleteServer(name);
  setServerTools: Store['setServerTools'] = (server, tools) =>
    this.#p.registry.setServerTools(server, tools);
  listServerTools: Store['listServerTools'] = (server) => this.#p.registry.listServerTools(server);
  searchTools: Store['searchTools'] = (query, limit) => this.#p.registry.searchTools(query, limit);

  savePolicySet: Store['savePolicySet'] = (name, files, digest, at) =>
    this.#p.policySets.savePolicySet(name, files, digest, at);
  getPolicySet: Store['getPolicySet'] = (name, version) =>
    this.#p.policySets.getPolicySet(name, version);
  listPolicySets: Store['listPolicySets'] = () => this.#p.policySets.listPolicySets();
  activatePolicySet: Store['activatePolicySet'] = (name, version, at) =>
    this.#p.policySets.activatePolicySet(name, version, at);

  putApiKey: Store['putApiKey'] = (record) => this.#p.apiKeys.putApiKey(record);
  findApiKey: Store['findApiKey'] = (hash) => this.#p.apiKeys.findApiKey(hash);
  listApiKeys: Store['listApiKeys'] = () => this.#p.apiKeys.listApiKeys();
  revokeApiKey: Store['revokeApiKey'] = (id, at) => this.#p.apiKeys.revokeApiKey(id, at);

  appendAudit: Store['appendAudit'] = (entry) => this.#p.audit.appendAudit(entry);
  listAudit: Store['listAudit'] = (options) => this.#p.audit.listAudit(options);
  auditHead: Store['auditHead'] = () => this.#p.audit.auditHead();

  requestApproval: Store['requestApproval'] = (request) =>
    this.#p.approvals.requestApproval(request);
  getApproval: Store['getApproval'] = (idOrPrefix) => this.#p.approvals.getApproval(idOrPrefix);
  listApprovals: Store['listApprovals'] = (options) => this.#p.approvals.listApprovals(options);
  answerApproval: Store['answerApproval'] = (id, answer) =>
    this.#p.approvals.answerApproval(id, answer);

  putEvalScores: Store['putEvalScores'] = (scores) => this.#p.evalScores.putEvalScores(scores);
  listEvalScores: Store['listEvalScores'] = (options) => this.#p.evalScores.listEvalScores(options);

  putEvalResult: Store['putEvalResult'] = (record) => this.#p.evalResults.putEvalResult(record);
  getEvalResult: Store['getEvalResult'] = (idOrPrefix) =>
    this.#p.evalResults.getEvalResult(idOrPrefix);
  listEvalResults: Store['listEvalResults'] = (options) =>
    this.#p.evalResults.listEvalResults(options);
}
