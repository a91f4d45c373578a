package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Names the configuration is read from besides the command line.
const (
	configFlag = "config"
	envPrefix  = "PEERBRIDGE_"
	envConfig  = "PEERBRIDGE_CONFIG"
)

// envAliases are other programs' variables honoured for a flag when its own
// PEERBRIDGE_ variable is unset: NATS_URL, as natscli reads it.
var envAliases = map[string]string{"nats-url": "NATS_URL"}

// repeatable marks flag values that take a list.
type repeatable interface{ repeatable() }

func (*targetsFlag) repeatable() {}
func (serveFlag) repeatable()    {}
func (*listFlag) repeatable()    {}

// addConfigFlag adds --config to fs.
func addConfigFlag(fs *flag.FlagSet) *string {
	return fs.String(configFlag, "", "YAML `FILE` whose keys are the long flag names (env "+envConfig+")")
}

// envName is the environment variable of a flag: PEERBRIDGE_NATS_LISTEN for
// --nats-listen.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyConfig fills each flag of fs that the command line did not set, from
// its environment variable or else from the YAML file (--config, or
// PEERBRIDGE_CONFIG if fs has --config): flag, environment, file, default. lookup is
// os.LookupEnv outside tests. Every mistake is a *usageError.
func applyConfig(fs *flag.FlagSet, file string, lookup func(string) (string, bool)) error {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if file == "" && fs.Lookup(configFlag) != nil {
		file, _ = lookup(envConfig)
	}
	values, err := readConfigFile(fs, file)
	if err != nil {
		return &usageError{err}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == configFlag {
			return
		}
		if v, name, ok := lookupEnv(f.Name, lookup); ok {
			errs = append(errs, setFromEnv(f, name, v))
		} else if v, ok := values[f.Name]; ok {
			errs = append(errs, setFromFile(f, file, v))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return &usageError{err}
	}
	return nil
}

func lookupEnv(flagName string, lookup func(string) (string, bool)) (value, name string, ok bool) {
	name = envName(flagName)
	if v, ok := lookup(name); ok {
		return v, name, true
	}
	if alias, has := envAliases[flagName]; has {
		if v, ok := lookup(alias); ok {
			return v, alias, true
		}
	}
	return "", "", false
}

// setFromEnv sets f from an environment variable; a repeatable flag takes a
// comma-separated list.
func setFromEnv(f *flag.Flag, name, v string) error {
	parts := []string{v}
	if fv, ok := f.Value.(interface{ envFields() bool }); ok && fv.envFields() {
		parts = strings.Fields(v)
	} else if _, ok := f.Value.(repeatable); ok {
		parts = strings.Split(v, ",")
	}
	for _, p := range parts {
		if err := f.Value.Set(strings.TrimSpace(p)); err != nil {
			return fmt.Errorf("environment %s=%q: %w", name, v, err)
		}
	}
	return nil
}

// readConfigFile parses file ("" for none) into its keys and checks every
// key names a flag of fs.
func readConfigFile(fs *flag.FlagSet, file string) (map[string]any, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		return nil, fmt.Errorf("config file %s: %w", file, err)
	}
	for k := range values {
		if fs.Lookup(k) == nil || k == configFlag {
			return nil, fmt.Errorf("config file %s: unknown key %q; keys are the long flag names: %s", file, k, strings.Join(flagNames(fs), ", "))
		}
	}
	return values, nil
}

func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != configFlag {
			names = append(names, f.Name)
		}
	})
	return slices.Sorted(slices.Values(names))
}

// setFromFile sets f from a config file value: a scalar, or for a
// repeatable flag a list of scalars or a map (serve: {TYPE: SUBJECT}).
func setFromFile(f *flag.Flag, file string, v any) error {
	_, multi := f.Value.(repeatable)
	var parts []string
	switch v := v.(type) {
	case []any:
		if !multi {
			return fmt.Errorf("config file %s: %s takes one value, not a list", file, f.Name)
		}
		for _, e := range v {
			s, err := scalar(e)
			if err != nil {
				return fmt.Errorf("config file %s: %s: %w", file, f.Name, err)
			}
			parts = append(parts, s)
		}
	case map[string]any:
		if !multi {
			return fmt.Errorf("config file %s: %s takes one value, not a map", file, f.Name)
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			s, err := scalar(v[k])
			if err != nil {
				return fmt.Errorf("config file %s: %s: %w", file, f.Name, err)
			}
			parts = append(parts, k+"="+s)
		}
	default:
		s, err := scalar(v)
		if err != nil {
			return fmt.Errorf("config file %s: %s: %w", file, f.Name, err)
		}
		parts = []string{s}
	}
	for _, p := range parts {
		if err := f.Value.Set(p); err != nil {
			return fmt.Errorf("config file %s: %s: %q: %w", file, f.Name, p, err)
		}
	}
	return nil
}

// scalar is a YAML scalar as the flag would read it on the command line.
func scalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "", errors.New("empty value")
	}
	return "", fmt.Errorf("want a plain value, got %T", v)
}
