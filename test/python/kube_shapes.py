"""The official Kubernetes Python client against this API server: objects created from
minimal bodies are read back through the client's typed models, which refuse a field kube
always writes when it is missing (V1NodeSystemInfo's architecture, for one).

Usage: kube_shapes.py KUBECONFIG NAME. Creates the Node NAME (no status), the Node
NAME-partial (a nodeInfo without architecture, as a partial registration may send it), the
Namespace NAME and the ConfigMap NAME in it, then reads them with list_node, read_namespace and
list_namespaced_config_map; prints what it read as JSON (the client's serialization of its
models). Any refusal by the client is an exception: a non-zero exit with its traceback.
"""
import json
import sys

from kubernetes import client, config


def main(kubeconfig, name):
    config.load_kube_config(config_file=kubeconfig)
    api = client.ApiClient()
    core = client.CoreV1Api(api)

    # Bodies as dicts: sent as they are, without the client's models filling anything in.
    core.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    core.create_node(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name + "-partial"},
            "status": {"nodeInfo": {"kubeletVersion": "v1.32.0", "operatingSystem": "linux"}},
        }
    )
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    core.create_namespaced_config_map(
        name, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"mode": "fast"}}
    )

    nodes = core.list_node()
    node = next(n for n in nodes.items if n.metadata.name == name)
    partial = next(n for n in nodes.items if n.metadata.name == name + "-partial")
    namespace = core.read_namespace(name)
    config_maps = core.list_namespaced_config_map(name)

    json.dump(
        {
            "node": api.sanitize_for_serialization(node),
            "partialNode": api.sanitize_for_serialization(partial),
            "namespace": api.sanitize_for_serialization(namespace),
            "configMaps": api.sanitize_for_serialization(config_maps.items),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
