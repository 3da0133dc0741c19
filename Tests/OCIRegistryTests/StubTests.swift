import Testing
import OCIRegistry
@Test func stub() throws { #expect(try RegistryHost("docker.io").apiHost == "registry-1.docker.io") }
