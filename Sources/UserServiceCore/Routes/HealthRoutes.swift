import Hummingbird

/// `GET /health`: answers while the process serves requests; needs no identity.
struct HealthRoutes {
    private struct Status: ResponseEncodable {
        let status: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("health") { _, _ in Status(status: "ok") }
    }
}
