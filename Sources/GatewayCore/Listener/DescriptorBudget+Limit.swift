#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension DescriptorBudget {
    /// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the limit in force then
    /// (`nil` when it cannot be read; unlimited counts as `Int.max`).
    public static func raiseDescriptorLimit() -> Int? {
        var limits = rlimit()
        guard getrlimit(Self.noFile, &limits) == 0 else { return nil }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Self.noFile, &raised) == 0 { limits = raised }
        }
        return limits.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limits.rlim_cur)
    }

    #if canImport(Glibc)
        private static let noFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let noFile = RLIMIT_NOFILE
    #endif
}
