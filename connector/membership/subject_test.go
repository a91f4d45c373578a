package membership

import "testing"

func TestMatchSubject(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"chat.>", "chat.room1", true},
		{"chat.>", "chat.room1.x", true},
		{"chat.>", "chat", false},
		{"svc.calc.*", "svc.calc.add", true},
		{"svc.calc.*", "svc.calc.add.x", false},
		{"svc.calc.*", "svc.calc", false},
		{"a.b", "a.b", true},
		{"a.b", "a.b.c", false},
		{"a.b.c", "a.b", false},
		{">", "anything.at.all", true},
		{"*", "one", true},
		{"*", "one.two", false},
		{"a.*.c", "a.b.c", true},
		{"a..c", "a..c", false},
		{"a", "", false},
	} {
		if got := matchSubject(tc.p, tc.s); got != tc.want {
			t.Errorf("matchSubject(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func FuzzMatchSubject(f *testing.F) {
	f.Add("chat.>", "chat.a")
	f.Add("*.b.>", "a.b.c.d")
	f.Fuzz(func(t *testing.T, p, s string) {
		if matchSubject(p, s) && s == "" {
			t.Fatalf("%q matched the empty subject", p)
		}
	})
}
