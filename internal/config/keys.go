package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// checkKeys walks a decoded document against File before it is decoded
// into it, so that an unknown key, a repeated key or a value of the wrong
// kind is reported as the file spells it — its dotted key and line —
// where the YAML library would name Go types (config.AWS, int).
func checkKeys(doc *yaml.Node) error {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return checkValue(doc.Content[0], reflect.TypeFor[File](), "")
}

// checkValue checks the value n of key against t, the type it decodes
// into; key is "" for the whole file.
func checkValue(n *yaml.Node, t reflect.Type, key string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return fmt.Errorf("line %d: %s: want %s, not %s", n.Line, key, kindOf(t), shown(n))
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if key == "" {
			return fmt.Errorf("line %d: want keys such as listen: and data: at the top of the file, not %s", n.Line, shown(n))
		}
		return fmt.Errorf("line %d: %s: want a section of keys, not %s", n.Line, key, shown(n))
	}
	fields := yamlFields(t)
	firstLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			if err := checkMerged(v, t, key); err != nil {
				return err
			}
			continue
		}
		field, ok := fields[k.Value]
		if !ok {
			return unknownKey(k, key, t)
		}
		if line, seen := firstLine[k.Value]; seen {
			return fmt.Errorf("line %d: key %q already defined at line %d", k.Line, joinKey(key, k.Value), line)
		}
		firstLine[k.Value] = k.Line
		if err := checkValue(v, field.Type, joinKey(key, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// checkMerged checks the mappings a merge key (<<: *defaults) brings into
// the section key.
func checkMerged(v *yaml.Node, t reflect.Type, key string) error {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.SequenceNode {
		return checkValue(v, t, key)
	}
	for _, m := range v.Content {
		if err := checkValue(m, t, key); err != nil {
			return err
		}
	}
	return nil
}

// unknownKey names a key section does not have and lists those it has.
// The message keeps the YAML library's "field … not found" so that it
// reads as it did before keys were named as the file spells them.
func unknownKey(k *yaml.Node, section string, t reflect.Type) error {
	where := "; the file's keys are "
	if section != "" {
		where = " in section " + section + "; its keys are "
	}
	return fmt.Errorf("line %d: field %s not found: unknown key %q%s%s",
		k.Line, k.Value, k.Value, where, strings.Join(yamlNames(t), ", "))
}

func joinKey(section, name string) string {
	if section == "" {
		return name
	}
	return section + "." + name
}

// yamlFields maps the keys of a section to the fields they decode into.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name := yamlTag(f); name != "" {
			fields[name] = f
		}
	}
	return fields
}

// yamlNames lists the keys of a section in the order File declares them.
func yamlNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := yamlTag(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func yamlTag(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// kindOf says what a value of type t is written as.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int32:
		return "a whole number up to " + strconv.Itoa(math.MaxInt32)
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Map:
		return "a mapping of names to strings"
	}
	return "a " + t.Kind().String()
}

// shown is a wrong value as a message shows it: a scalar quoted, anything
// else by its kind.
func shown(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section of keys"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}
