/**
 * The garbage collector's owner graph (kube's GraphBuilder, pkg/controller/garbagecollector):
 * which object owns which, kept current from the watches of every stored kind, and the work
 * each change makes for the collector's two queues (attempt to delete, attempt to orphan).
 *
 * Unlike kube's graph, which holds a node for every object of the cluster, this one holds only
 * what the collection needs: objects with ownerReferences, the owners they name, and objects
 * being deleted with the `orphan` or `foregroundDeletion` finalizer. Each node keeps its uid,
 * identity (apiVersion, kind, namespace, name), owner references and a few flags, never the
 * object. An object without owners that nobody names is not kept; when a dependent names it
 * later, its node starts "virtual" (unconfirmed), and the dependent is queued so that a live
 * get of each of its owners decides (the collector confirms the owners it finds). Every change
 * is applied synchronously, in the order the watches deliver them.
 */
import { isPlainObject } from '../../../lib/kube.ts';

/** The finalizer that makes the collector orphan an owner's dependents before it goes (metav1.FinalizerOrphanDependents). */
export const ORPHAN_FINALIZER = 'orphan';
/** The finalizer that makes an owner wait for its blocking dependents to be deleted (metav1.FinalizerDeleteDependents). */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** An apiVersion and kind, shared by every node and reference that names them. */
export interface TypeRef {
  readonly apiVersion: string;
  readonly kind: string;
  /** The API group of apiVersion ("" for the core group). */
  readonly group: string;
}

/** What the graph keeps of one ownerReference. */
export interface OwnerRef {
  readonly uid: string;
  readonly type: TypeRef;
  readonly name: string;
  /** blockOwnerDeletion: a foreground deletion of the owner waits for this dependent. */
  readonly block: boolean;
}

/** What the graph reads of an object's metadata. */
export interface ObjectFacts {
  uid: string;
  namespace: string;
  name: string;
  owners: readonly OwnerRef[];
  beingDeleted: boolean;
  orphanFinalizer: boolean;
  foregroundFinalizer: boolean;
}

const OBSERVED = 1;
const BEING_DELETED = 2;
/** Being deleted with the foregroundDeletion finalizer (kube's deletingDependents). */
const DELETING_DEPENDENTS = 4;
/** Being deleted with the orphan finalizer. */
const ORPHANING = 8;

const NO_OWNERS: readonly OwnerRef[] = Object.freeze([]);

/** One object of the graph (or, while virtual, one that dependents name and nobody has confirmed). */
export class GraphNode {
  readonly uid: string;
  type: TypeRef;
  /** "" for a cluster-scoped object (or, while virtual, a namespaced dependent's namespace). */
  namespace: string;
  name: string;
  owners: readonly OwnerRef[] = NO_OWNERS;
  /** Nodes whose owners name this one; absent while there are none. */
  dependents: Set<GraphNode> | undefined;
  flags = 0;

  constructor(uid: string, type: TypeRef, namespace: string, name: string) {
    this.uid = uid;
    this.type = type;
    this.namespace = namespace;
    this.name = name;
  }

  /** Seen through a watch or a live get (not only named by a dependent). */
  get observed(): boolean {
    return (this.flags & OBSERVED) !== 0;
  }

  get beingDeleted(): boolean {
    return (this.flags & BEING_DELETED) !== 0;
  }

  /** Being deleted with the foregroundDeletion finalizer: waits for its blocking dependents. */
  get deletingDependents(): boolean {
    return (this.flags & DELETING_DEPENDENTS) !== 0;
  }

  /** Being deleted with the orphan finalizer. */
  get orphaning(): boolean {
    return (this.flags & ORPHANING) !== 0;
  }

  get dependentCount(): number {
    return this.dependents?.size ?? 0;
  }

  /** The dependents whose reference to this node has blockOwnerDeletion (kube's blockingDependents). */
  blockingDependents(): GraphNode[] {
    const blocking: GraphNode[] = [];
    for (const dependent of this.dependents ?? []) {
      if (dependent.owners.some((o) => o.uid === this.uid && o.block)) blocking.push(dependent);
    }
    return blocking;
  }
}

/** Where the graph sends the work its changes make. */
export interface GraphWork {
  /** The node may be garbage, or waits for its dependents: the collector looks at it. */
  attemptToDelete(uid: string): void;
  /** The node is being deleted with the orphan finalizer: its dependents are to be orphaned. */
  attemptToOrphan(uid: string): void;
}

function sameCoordinates(ref: OwnerRef, node: GraphNode): boolean {
  return ref.type === node.type && ref.name === node.name;
}

export class OwnerGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly types = new Map<string, TypeRef>();
  /** Namespace names, shared by the nodes of a namespace. */
  private readonly namespaces = new Map<string, string>();
  private readonly work: GraphWork;

  constructor(work: GraphWork) {
    this.work = work;
  }

  /** Nodes held. */
  get size(): number {
    return this.nodes.size;
  }

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** Every node held (for a relist's comparison). */
  all(): IterableIterator<GraphNode> {
    return this.nodes.values();
  }

  /** The one TypeRef of an apiVersion and kind. */
  typeOf(apiVersion: string, kind: string): TypeRef {
    const key = `${apiVersion}\u0000${kind}`;
    let type = this.types.get(key);
    if (type === undefined) {
      const slash = apiVersion.indexOf('/');
      type = Object.freeze({ apiVersion, kind, group: slash < 0 ? '' : apiVersion.slice(0, slash) });
      this.types.set(key, type);
    }
    return type;
  }

  /**
   * The facts of an object's metadata, or undefined when it has no uid (nothing can own or be
   * owned through it). Malformed owner references (no uid) are skipped, as they name nothing.
   */
  factsOf(object: unknown): ObjectFacts | undefined {
    const metadata = isPlainObject(object) ? object.metadata : undefined;
    if (!isPlainObject(metadata)) return undefined;
    const uid = metadata.uid;
    if (typeof uid !== 'string' || uid === '') return undefined;
    const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers : [];
    const owners: OwnerRef[] = [];
    if (Array.isArray(metadata.ownerReferences)) {
      for (const ref of metadata.ownerReferences) {
        if (!isPlainObject(ref) || typeof ref.uid !== 'string' || ref.uid === '') continue;
        // The strings of an owner held already are shared rather than kept twice.
        const known = this.nodes.get(ref.uid);
        const name = typeof ref.name === 'string' ? ref.name : '';
        owners.push({
          uid: known?.uid ?? ref.uid,
          type: this.typeOf(typeof ref.apiVersion === 'string' ? ref.apiVersion : '', typeof ref.kind === 'string' ? ref.kind : ''),
          name: known !== undefined && known.name === name ? known.name : name,
          block: ref.blockOwnerDeletion === true,
        });
      }
    }
    const deletion = metadata.deletionTimestamp;
    return {
      uid,
      namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '',
      name: typeof metadata.name === 'string' ? metadata.name : '',
      // a copy of exactly its length (a pushed-to array keeps room to grow)
      owners: owners.length === 0 ? NO_OWNERS : owners.slice(),
      beingDeleted: deletion !== undefined && deletion !== null && deletion !== '',
      orphanFinalizer: finalizers.includes(ORPHAN_FINALIZER),
      foregroundFinalizer: finalizers.includes(FOREGROUND_FINALIZER),
    };
  }

  /**
   * An object as a watch (or list) delivered it, of `type`: its node is created, updated or
   * confirmed, and the work its change makes is queued (kube's processGraphChanges for an add
   * or update).
   */
  observe(type: TypeRef, facts: ObjectFacts): void {
    const flags = OBSERVED | flagsOf(facts);
    let node = this.nodes.get(facts.uid);
    if (node === undefined) {
      // Neither owned, nor named as an owner, nor waiting for the collector: nothing to keep.
      if (facts.owners.length === 0 && (flags & (ORPHANING | DELETING_DEPENDENTS)) === 0) return;
      node = new GraphNode(facts.uid, type, this.namespace(facts.namespace), facts.name);
      this.nodes.set(node.uid, node);
      node.owners = facts.owners;
      node.flags = flags;
      this.addDependentToOwners(node, facts.owners);
      this.transitions(node, 0);
      return;
    }
    const before = node.flags;
    if (!node.observed || node.type !== type || node.name !== facts.name || node.namespace !== facts.namespace) {
      // A virtual node's coordinates were a dependent's guess: the dependents that named it
      // otherwise are checked against the object as it is (kube: potentially invalid dependents).
      node.type = type;
      node.name = facts.name;
      node.namespace = this.namespace(facts.namespace);
      for (const dependent of node.dependents ?? []) {
        if (!this.referencesRightly(dependent, node)) this.work.attemptToDelete(dependent.uid);
      }
    }
    this.updateOwners(node, facts.owners);
    node.flags = flags;
    this.transitions(node, before);
    this.prune(node);
  }

  /**
   * An owner a dependent's live check found (a live get by its reference, uid matching): its node,
   * when still virtual, is confirmed with what the get read. A node already observed keeps what
   * the watches said (they are as new or newer); a node no longer held is not brought back (its
   * object's deletion was seen meanwhile).
   */
  confirm(type: TypeRef, facts: ObjectFacts): void {
    const node = this.nodes.get(facts.uid);
    if (node === undefined || node.observed) return;
    this.observe(type, facts);
  }

  /**
   * The object of `uid` is gone (a watch's DELETED, or a live get found it absent): its node goes,
   * its dependents are queued (their owner is absent), and so are its owners that wait for their
   * dependents to be deleted (kube's processGraphChanges for a delete).
   */
  remove(uid: string): void {
    const node = this.nodes.get(uid);
    if (node === undefined) return;
    this.nodes.delete(uid);
    for (const dependent of node.dependents ?? []) this.work.attemptToDelete(dependent.uid);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (owner === undefined) continue;
      owner.dependents?.delete(node);
      if (owner.deletingDependents) this.work.attemptToDelete(owner.uid);
      this.prune(owner);
    }
  }

  /** Whether `dependent`'s references to `owner` match what it is (namespace and coordinates). */
  private referencesRightly(dependent: GraphNode, owner: GraphNode): boolean {
    // A namespaced owner owns only in its own namespace; a cluster-scoped one anywhere.
    if (owner.namespace !== '' && owner.namespace !== dependent.namespace) return false;
    return dependent.owners.every((ref) => ref.uid !== owner.uid || sameCoordinates(ref, owner));
  }

  /**
   * Adds `node` to the dependents of the owners `refs` name, making virtual nodes for owners not
   * held. The node is queued for a live check of its owners when one of them is unconfirmed, is
   * named with other coordinates than it has, lives in another namespace, or is waiting for its
   * dependents to be deleted (a dependent that appears then must go too).
   */
  private addDependentToOwners(node: GraphNode, refs: readonly OwnerRef[]): void {
    let check = false;
    for (const ref of refs) {
      let owner = this.nodes.get(ref.uid);
      if (owner === undefined) {
        owner = new GraphNode(ref.uid, ref.type, node.namespace, ref.name);
        this.nodes.set(owner.uid, owner);
      }
      (owner.dependents ??= new Set()).add(node);
      if (!owner.observed || owner.deletingDependents || !this.referencesRightly(node, owner)) check = true;
    }
    if (check) this.work.attemptToDelete(node.uid);
  }

  /** Sets the node's owners, moving it between owners' dependents (kube's referencesDiffs). */
  private updateOwners(node: GraphNode, refs: readonly OwnerRef[]): void {
    const old = node.owners;
    if (old === refs || (old.length === 0 && refs.length === 0)) return;
    const before = new Map(old.map((r) => [r.uid, r]));
    const added: OwnerRef[] = [];
    for (const ref of refs) {
      const was = before.get(ref.uid);
      if (was === undefined) {
        added.push(ref);
        continue;
      }
      before.delete(ref.uid);
      // An owner no longer blocked may be done waiting for its dependents.
      if (was.block && !ref.block) this.unblocked(ref.uid);
    }
    node.owners = refs.length === 0 ? NO_OWNERS : refs;
    for (const removed of before.values()) {
      const owner = this.nodes.get(removed.uid);
      if (owner === undefined) continue;
      owner.dependents?.delete(node);
      if (removed.block) this.unblocked(removed.uid);
      this.prune(owner);
    }
    if (added.length > 0) this.addDependentToOwners(node, added);
  }

  /** An owner lost a blocking dependent (kube's addUnblockedOwnersToDeleteQueue). */
  private unblocked(uid: string): void {
    if (this.nodes.has(uid)) this.work.attemptToDelete(uid);
  }

  /**
   * The work of a node's deletion state changing from `before` (kube's processTransitions): the
   * orphan finalizer on a deleted object starts orphaning; foregroundDeletion starts the deletion
   * of its dependents, after which it waits for the blocking ones.
   */
  private transitions(node: GraphNode, before: number): void {
    if (node.orphaning && (before & ORPHANING) === 0) {
      this.work.attemptToOrphan(node.uid);
      return;
    }
    if (node.deletingDependents && (before & DELETING_DEPENDENTS) === 0) {
      for (const dependent of node.dependents ?? []) this.work.attemptToDelete(dependent.uid);
      this.work.attemptToDelete(node.uid);
    }
  }

  /** Drops a node the collection no longer needs: no owners, no dependents, nothing to finalize. */
  private prune(node: GraphNode): void {
    if (node.owners.length > 0 || node.dependentCount > 0 || (node.flags & (ORPHANING | DELETING_DEPENDENTS)) !== 0) return;
    if (this.nodes.get(node.uid) === node) this.nodes.delete(node.uid);
  }

  private namespace(name: string): string {
    if (name === '') return '';
    const known = this.namespaces.get(name);
    if (known !== undefined) return known;
    this.namespaces.set(name, name);
    return name;
  }
}

function flagsOf(facts: ObjectFacts): number {
  if (!facts.beingDeleted) return 0;
  return BEING_DELETED | (facts.foregroundFinalizer ? DELETING_DEPENDENTS : 0) | (facts.orphanFinalizer ? ORPHANING : 0);
}
