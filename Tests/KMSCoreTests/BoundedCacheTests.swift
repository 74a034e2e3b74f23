import KMSCore
import Testing

@Suite struct BoundedCacheTests {
    @Test func holdsAtMostItsLimitAndKeepsWhatIsReplaced() {
        let cache = BoundedCache<Int, String>(limit: 3)
        for i in 0..<3 { cache.set("\(i)", for: i) }
        cache.set("two", for: 2)  // a replacement: nothing is dropped
        #expect(cache[0] == "0" && cache[1] == "1" && cache[2] == "two")
        cache.set("3", for: 3)  // full: emptied, then holds the new entry
        #expect(cache[0] == nil && cache[2] == nil && cache[3] == "3")
    }
}
