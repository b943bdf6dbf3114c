# ruff: noqa  -- a trace-opt program kept as published, not restyled
# trace-opt's basic tracing calls as its README and basic tutorial use them: node/bundle, GRAPH,
# trace.stop_tracing(), node.backward(visualize=True), and the helpers of opto.trace.utils.
from opto import trace
from opto.trace import node, bundle, GRAPH
from opto.trace.utils import (sum_feedback, contain, parse_eqs_to_dict, for_all_methods,
                              render_opt_step, escape_json_nested_quotes, remove_non_ascii)
from opto.trace.propagators import GraphPropagator

x = node(1, trainable=True)
y = node(3)
z = x / y
z2 = x / 3  # the int 3 would be converted to a node automatically
list_of_nodes = [x, node(2), node(3)]
print(z.data, z2.data, contain(list_of_nodes, x), contain(list_of_nodes, z))

@bundle()
def add_one(a):
    """Adds one."""
    return a + 1

w = add_one(z)
graph = w.backward("make it bigger", visualize=True, print_limit=30)  # a graphviz Digraph

with trace.stop_tracing():
    untraced = x + 1
print(untraced.data, len(untraced.parents))

feedback_graph = sum_feedback([x])  # the TraceGraph x received
print(type(feedback_graph).__name__, len(feedback_graph.graph), feedback_graph.user_feedback)

print(parse_eqs_to_dict("x0 = 1\ny1 = 'hello'\n"))

escaped = escape_json_nested_quotes('{"name": "Simple "quote"", "value": "Another "quote""}')
cleaned = remove_non_ascii('{"name": "a\x00b", "value": "c"}')
GRAPH.clear()
