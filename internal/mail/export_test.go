package mail

// TemplateFile reads one embedded template file (tests build trees from it).
func TemplateFile(name string) ([]byte, error) { return embedded.ReadFile("templates/" + name) }
