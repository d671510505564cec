package api

import (
	"fmt"
	"strings"

	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// nodeJSON is a node of an answer: metadata only — never an object body, never Secret data.
type nodeJSON struct {
	ID          string `json:"id"`
	Cluster     string `json:"cluster"`
	Group       string `json:"group"`
	Version     string `json:"version,omitempty"`
	Kind        string `json:"kind"`
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name"`
	UID         string `json:"uid,omitempty"`
	Placeholder bool   `json:"placeholder,omitempty"`
	External    bool   `json:"external,omitempty"`
	Depth       int    `json:"depth"`
}

func toNodeJSON(n *graph.Node, depth int) nodeJSON {
	return nodeJSON{ID: n.Key().String(), Cluster: n.Cluster, Group: n.Group, Version: n.Version, Kind: n.Kind,
		Resource: n.Resource, Namespace: n.Namespace, Name: n.Name, UID: n.UID, Placeholder: n.Placeholder,
		External: n.External, Depth: depth}
}

type edgeJSON struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Kind       string `json:"kind"`
	Controller bool   `json:"controller,omitempty"`
}

type graphJSON struct {
	Root      string     `json:"root"`
	Direction string     `json:"direction"`
	Depth     int        `json:"depth"`
	Kinds     []string   `json:"kinds"`
	Nodes     []nodeJSON `json:"nodes"`
	Edges     []edgeJSON `json:"edges"`
	Truncated bool       `json:"truncated"`
}

func toGraphJSON(res graph.WalkResult, dir graph.Direction, depth int, rels graph.RelSet) graphJSON {
	out := graphJSON{Root: res.Nodes[0].Key().String(), Direction: dir.String(), Depth: depth,
		Nodes: make([]nodeJSON, len(res.Nodes)), Edges: make([]edgeJSON, len(res.Edges)), Truncated: res.Truncated}
	for r := graph.Relation(0); r < graph.NumRelations; r++ {
		if rels.Has(r) {
			out.Kinds = append(out.Kinds, r.String())
		}
	}
	for i, n := range res.Nodes {
		out.Nodes[i] = toNodeJSON(n.Node, n.Depth)
	}
	for i, e := range res.Edges {
		out.Edges[i] = edgeJSON{From: e.From.Key().String(), To: e.To.Key().String(), Kind: e.Rel.String(), Controller: e.Controller}
	}
	return out
}

func nodeLabel(n *graph.Node) string {
	s := n.Kind
	if n.Group != "" {
		s += "." + n.Group
	}
	s += "\n"
	if n.Namespace != "" {
		s += n.Namespace + "/"
	}
	s += n.Name
	switch {
	case n.Placeholder:
		s += "\n(not stored)"
	case n.External:
		s += "\n(external)"
	}
	return s
}

func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// renderDOT writes the walk as a Graphviz digraph: one node per object (dashed when not
// stored, dotted when external), edges from the dependent to its dependency labelled with
// their relation kind.
func renderDOT(res graph.WalkResult) string {
	var b strings.Builder
	b.WriteString("digraph memgraph {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for i, n := range res.Nodes {
		attrs := "label=" + dotQuote(nodeLabel(n.Node))
		switch {
		case i == 0:
			attrs += ", penwidth=2"
		case n.Placeholder:
			attrs += ", style=dashed"
		case n.External:
			attrs += ", style=dotted"
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(n.Key().String()), attrs)
	}
	for _, e := range res.Edges {
		attrs := "label=" + dotQuote(e.Rel.String())
		if e.Controller {
			attrs += ", style=bold"
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotQuote(e.From.Key().String()), dotQuote(e.To.Key().String()), attrs)
	}
	if res.Truncated {
		b.WriteString("  truncated [label=\"… truncated\", shape=plaintext];\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "\n", "<br/>", "<", "#lt;", ">", "#gt;")
	return `"` + r.Replace(s) + `"`
}

// renderMermaid writes the walk as a Mermaid flowchart with the same conventions as DOT.
func renderMermaid(res graph.WalkResult) string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	ids := make(map[graph.Key]string, len(res.Nodes))
	for i, n := range res.Nodes {
		id := fmt.Sprintf("n%d", i)
		ids[n.Key()] = id
		open, close := "[", "]"
		switch {
		case n.Placeholder:
			open, close = "[/", "/]"
		case n.External:
			open, close = "([", "])"
		}
		fmt.Fprintf(&b, "  %s%s%s%s\n", id, open, mermaidText(nodeLabel(n.Node)), close)
	}
	for _, e := range res.Edges {
		arrow := "-->"
		if e.Controller {
			arrow = "==>"
		}
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", ids[e.From.Key()], arrow, e.Rel.String(), ids[e.To.Key()])
	}
	if len(res.Nodes) > 0 {
		b.WriteString("  style n0 stroke-width:3px\n")
	}
	if res.Truncated {
		b.WriteString("  truncated[\"… truncated\"]\n")
	}
	return b.String()
}
