import Foundation
import Testing
import OCIFormat

/// Runs `body` on a thread with a 512 KiB stack (a common secondary-thread
/// size) and returns its result; a stack overflow crashes the test run.
private func onSmallStack(_ body: @escaping @Sendable () -> String) -> String {
    final class Box: @unchecked Sendable { var value = "" }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.value = body()
        done.signal()
    }
    thread.stackSize = 512 * 1024
    thread.start()
    done.wait()
    return box.value
}

/// The nesting, expression-depth and data-depth limits keep every template
/// within a 512 KiB stack, even in a debug build.
@Test func worstCaseTemplatesFitASmallStack() {
    let recursive = "{{define \"t\"}}" + String(repeating: "{{if 1}}", count: 40) + "{{template \"t\" "
        + String(repeating: "(", count: 9) + "." + String(repeating: ")", count: 9) + "}}" + String(repeating: "{{end}}", count: 40)
        + "{{end}}{{template \"t\" .}}"
    let result = onSmallStack { errorMessage { try Template(recursive).render(.null) } ?? "no error" }
    #expect(result.hasSuffix("exceeded maximum nesting depth (50)"))

    let parens = "{{" + String(repeating: "(", count: 50) + "1" + String(repeating: ")", count: 50) + "}}"
    #expect(onSmallStack { (try? Template(parens).render(.null)) ?? "error" } == "1")

    let ifs = String(repeating: "{{with .}}", count: 25) + String(repeating: "{{if 1}}", count: 20)
        + "{{printf \"%v\" ((((.))))}}|{{json .}}|{{len (printf \"%q\" .)}}" + String(repeating: "{{end}}", count: 45)
    let deep: TemplateValue = (0..<99).reduce("x") { value, _ in .array([value]) }
    let output = onSmallStack { (try? Template(ifs).render(deep)) ?? "error" }
    #expect(output == String(repeating: "[", count: 99) + "x" + String(repeating: "]", count: 99) + "|"
        + String(repeating: "[", count: 99) + "\"x\"" + String(repeating: "]", count: 99) + "|201")
}
