import Foundation
import Hummingbird
import Logging

/// `POST /auth/register` and `POST /auth/login`.
struct AuthRoutes {
    let database: any UserStore
    let hasher: PasswordHasher
    let issuer: TokenIssuer

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("register", use: self.register)
        group.post("login", use: self.login)
    }

    @Sendable func register(request: Request, context: AppRequestContext) async throws -> EditedResponse<UserResponse> {
        let body = try await request.decodeJSONBody(as: RegisterRequest.self, context: context)
        try body.validate()
        let newUser = NewUser(
            username: body.username,
            email: body.email,
            passwordHash: try await self.hasher.hash(body.password),
            role: .user,
            createdAt: Date()
        )
        let user: User
        do {
            user = try await self.database.insertUser(newUser)
        } catch let conflict as UniqueFieldConflict {
            throw APIError.conflict(field: conflict.field)
        }
        context.logger.info("User registered", metadata: ["userservice.user_id": "\(user.id)"])
        return EditedResponse(status: .created, response: UserResponse(user))
    }

    /// Unknown users and wrong passwords get the same answer after the same amount of bcrypt work.
    @Sendable func login(request: Request, context: AppRequestContext) async throws -> TokenResponse {
        let body = try await request.decodeJSONBody(as: LoginRequest.self, context: context)
        let user = try await self.database.user(username: body.username)
        guard try await self.hasher.verify(body.password, against: user?.passwordHash), let user else {
            context.logger.info("Login refused", metadata: ["userservice.reason": "invalid_credentials"])
            throw APIError.invalidCredentials
        }
        let issued = try await self.issuer.issue(for: user)
        context.logger.info("Login succeeded", metadata: ["userservice.user_id": "\(user.id)"])
        return TokenResponse(accessToken: issued.token, expiresIn: issued.expiresIn)
    }
}
