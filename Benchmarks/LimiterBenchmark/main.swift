import Dispatch
import Foundation
import GatewayCore

// The rate limiter's cost per check, in-process: one hot key, 100,000 keys that fit, 200,000 keys
// churning through a 100,000-key table, and two threads at once. Run `Benchmarks/limiter-cost`.

let checks = 4_000_000
let policy = RateLimitPolicy(RatePolicyConfig(limit: 1_000_000_000, period: .hour, key: .ip), scope: "bench")
let start = Int64(1_800_000_000) * 1_000_000_000

func keys(_ count: Int) -> [String] { (0..<count).map { "ip:10.\($0 >> 16).\(($0 >> 8) & 255).\($0 & 255)" } }

/// Nanoseconds per check over `checks` checks on `threads` threads, each thread with its own slice of `keys`.
func measure(_ label: String, keys: [String], maxKeys: Int, threads: Int = 1) {
    let limiter = RateLimiter(maxKeys: maxKeys)
    let policies = [policy]
    for key in keys { _ = limiter.check(policies, keys: [key], now: start) }  // warm: counters exist
    let begin = DispatchTime.now().uptimeNanoseconds
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
        var admitted = 0
        var index = thread
        var keyList = [keys[0]]
        for step in 0..<(checks / threads) {
            keyList[0] = keys[index]
            if limiter.check(policies, keys: keyList, now: start + Int64(step))[0].admitted { admitted += 1 }
            index += threads
            if index >= keys.count { index = thread }
        }
        precondition(admitted == checks / threads)
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - begin)
    let perCheck = elapsed / Double(checks) * Double(threads)
    let label = label.padding(toLength: 44, withPad: " ", startingAt: 0)
    print(
        "\(label) \(String(format: "%7.0f", perCheck)) ns/check per thread, \(String(format: "%6.2f", Double(checks) / elapsed * 1_000)) M checks/s in all"
    )
}

print("\(checks) checks each")
measure("1 key", keys: keys(1), maxKeys: 100_000)
measure("100,000 keys (all fit)", keys: keys(100_000), maxKeys: 100_000)
measure("200,000 keys through 100,000 (LRU evicts)", keys: keys(200_000), maxKeys: 100_000)
measure("100,000 keys, 2 threads", keys: keys(100_000), maxKeys: 100_000, threads: 2)
