"""A component written in Python, using stubs generated from proto/ by grpc_tools.protoc.

Usage: typed_client.py STUBS_DIR ADDRESS TOKEN

Against a running control plane (plaintext gRPC, a bearer token): creates a namespace and a
ConfigMap through their typed services (k8s.io.api.core.v1 messages), gets and lists it, checks
that the JSON Resources API sees the same object, watches from the list's resourceVersion and
sees the change made after it, and reads the Kubernetes Status of a refusal from the
grpc-status-details-bin trailer. Prints one JSON line summing up what it saw; exits non-zero
on the first thing that is not as expected.
"""

import json
import sys

STUBS, ADDRESS, TOKEN = sys.argv[1:4]
sys.path.insert(0, STUBS)

import grpc  # noqa: E402
from apiserver.kinds import core_v1_pb2, core_v1_pb2_grpc  # noqa: E402
from apiserver.v1 import meta_pb2, resources_pb2, resources_pb2_grpc, typed_pb2  # noqa: E402
from google.rpc import status_pb2  # noqa: E402

AUTH = [("authorization", "Bearer " + TOKEN)]
NAMESPACE = "python"


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def kube_status(error):
    """The Kubernetes Status of a failed call, from its grpc-status-details-bin trailer."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            rpc = status_pb2.Status.FromString(value)
            for any_ in rpc.details:
                if any_.type_url == "type.googleapis.com/apiserver.v1.Status":
                    return meta_pb2.Status.FromString(any_.value)
    return None


def main():
    channel = grpc.insecure_channel(ADDRESS)
    grpc.channel_ready_future(channel).result(timeout=30)
    namespaces = core_v1_pb2_grpc.NamespacesStub(channel)
    config_maps = core_v1_pb2_grpc.ConfigMapsStub(channel)
    resources = resources_pb2_grpc.ResourcesStub(channel)

    ns = core_v1_pb2.CreateNamespaceRequest()
    ns.object.metadata.name = NAMESPACE
    created_ns = namespaces.Create(ns, metadata=AUTH, timeout=30)
    expect(created_ns.status.phase == "Active", "the namespace is Active: %r" % created_ns.status.phase)

    # create
    create = core_v1_pb2.CreateConfigMapRequest(namespace=NAMESPACE)
    create.object.metadata.name = "settings"
    create.object.metadata.labels["app"] = "py"
    create.object.data["mode"] = "fast"
    create.object.binaryData["blob"] = b"\xff\x00\x01"
    created = config_maps.Create(create, metadata=AUTH, timeout=30)
    expect(created.metadata.namespace == NAMESPACE, "namespace set")
    expect(len(created.metadata.uid) == 36, "uid assigned: %r" % created.metadata.uid)
    expect(created.metadata.creationTimestamp.seconds > 0, "creationTimestamp set")

    # get
    got = config_maps.Get(typed_pb2.TypedGetRequest(namespace=NAMESPACE, name="settings"), metadata=AUTH, timeout=30)
    expect(dict(got.data) == {"mode": "fast"}, "data: %r" % dict(got.data))
    expect(got.binaryData["blob"] == b"\xff\x00\x01", "binaryData kept its bytes")

    # the JSON API sees the same object
    ref = meta_pb2.ResourceRef(group="", version="v1", resource="configmaps", namespace=NAMESPACE, name="settings")
    as_json = json.loads(resources.Get(resources_pb2.GetRequest(ref=ref), metadata=AUTH, timeout=30).object)
    expect(as_json["metadata"]["uid"] == created.metadata.uid, "the JSON API has the same uid")

    # list
    listed = config_maps.List(
        typed_pb2.TypedListRequest(namespace=NAMESPACE, options=meta_pb2.ListOptions(label_selector="app=py")),
        metadata=AUTH,
        timeout=30,
    )
    expect([i.metadata.name for i in listed.items] == ["settings"], "list: %r" % [i.metadata.name for i in listed.items])
    list_version = listed.metadata.resourceVersion

    # watch from the list's resourceVersion: the change made after it arrives
    watch = config_maps.Watch(
        typed_pb2.TypedWatchRequest(namespace=NAMESPACE, options=meta_pb2.WatchOptions(resource_version=list_version)),
        metadata=AUTH,
        timeout=60,
    )
    update = core_v1_pb2.UpdateConfigMapRequest(namespace=NAMESPACE)
    update.object.CopyFrom(got)
    update.object.data["mode"] = "safe"
    updated = config_maps.Update(update, metadata=AUTH, timeout=30)
    event = next(watch)
    watch.cancel()
    expect(event.type == "MODIFIED", "event type: %r" % event.type)
    expect(event.object.metadata.name == "settings", "event object: %r" % event.object.metadata.name)
    expect(event.object.data["mode"] == "safe", "the event carries the change")
    expect(event.resource_version == updated.metadata.resourceVersion, "the event is the update")
    expect(int(event.resource_version) > int(list_version), "after the list")

    # a refusal: the gRPC code, and the Kubernetes Status in the trailer
    try:
        config_maps.Get(typed_pb2.TypedGetRequest(namespace=NAMESPACE, name="missing"), metadata=AUTH, timeout=30)
        raise AssertionError("a missing object was found")
    except grpc.RpcError as error:
        expect(error.code() == grpc.StatusCode.NOT_FOUND, "code: %r" % error.code())
        status = kube_status(error)
        expect(status is not None and status.reason == "NotFound" and status.code == 404, "Status: %r" % status)
        not_found = status.message

    print(
        json.dumps(
            {
                "uid": created.metadata.uid,
                "listed": [i.metadata.name for i in listed.items],
                "listResourceVersion": list_version,
                "event": {"type": event.type, "name": event.object.metadata.name, "mode": event.object.data["mode"], "resourceVersion": event.resource_version},
                "notFound": not_found,
            }
        )
    )


if __name__ == "__main__":
    main()
