import OCIFormat

/// Renders `text` against `data` with docker's function set.
func render(_ text: String, _ data: TemplateValue = .null, options: TemplateOptions = TemplateOptions()) throws -> String {
    try Template(text).render(data, options: options)
}
