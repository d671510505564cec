package kubestatemetrics

import (
	"strings"
	"testing"
)

// TestFamilyFilter: decisions per write, headers and series alike, including a family
// whose header is missing (its series follow another family's).
func TestFamilyFilter(t *testing.T) {
	writes := []string{
		"# HELP kube_a A.\n# TYPE kube_a gauge\n",
		"kube_a{cluster=\"c1\",x=\"1\"} 1\nkube_a{cluster=\"c1\",x=\"2\"} 0\n",
		"kube_a{cluster=\"c2\"} 1\n",
		"",
		"# HELP kube_ab AB.\n# TYPE kube_ab gauge\n",
		"kube_ab{cluster=\"c1\"} 3\n",
		"kube_b{cluster=\"c1\"} 2\n", // no header of its own
		"kube_a 5\n",
		"# HELP kube_c [STABLE] C.\n# TYPE kube_c counter\n",
		"kube_c{cluster=\"c1\"} 4\n",
	}
	for _, tc := range []struct {
		families []string
		want     string
	}{
		{[]string{"kube_a"}, writes[0] + writes[1] + writes[2] + writes[7]},
		{[]string{"kube_ab", "kube_c"}, writes[4] + writes[5] + writes[8] + writes[9]},
		{[]string{"kube_b"}, writes[6]},
		{[]string{"kube_"}, ""},
	} {
		var out strings.Builder
		f := newFamilyFilter(&out, tc.families)
		for _, w := range writes {
			if n, err := f.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if out.String() != tc.want {
			t.Errorf("families %v: got\n%s\nwant\n%s", tc.families, out.String(), tc.want)
		}
	}
}
