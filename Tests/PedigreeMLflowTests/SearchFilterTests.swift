import PedigreeMLflow
import Testing

@Suite("MLflow's search grammar")
struct SearchFilterTests {
    @Test("comparisons joined by AND, with every entity prefix, quoted keys and the client's spellings")
    func parses() throws {
        let filter = try SearchFilter(
            #"metrics.rmse < 0.5 and params.alpha = '0.1' AND tags.`mlflow.runName` LIKE 'sk%' and attributes.status != "FAILED" and tag."a b" ILIKE '%X%' and run_name IN ('a', 'b') and params.x NOT IN ('1') and tags.t IS NULL and metric.m >= -1e-3"#
        )
        let c = filter.comparisons
        #expect(c.count == 9)
        #expect(c[0] == .init(entity: .metric, key: "rmse", comparator: .less, value: .number(0.5)))
        #expect(c[1] == .init(entity: .param, key: "alpha", comparator: .equal, value: .string("0.1")))
        #expect(c[2] == .init(entity: .tag, key: "mlflow.runName", comparator: .like, value: .string("sk%")))
        #expect(c[3] == .init(entity: .attribute, key: "status", comparator: .notEqual, value: .string("FAILED")))
        #expect(c[4] == .init(entity: .tag, key: "a b", comparator: .ilike, value: .string("%X%")))
        #expect(c[5] == .init(entity: .attribute, key: "run_name", comparator: .isIn, value: .list(["a", "b"])))
        #expect(c[6] == .init(entity: .param, key: "x", comparator: .notIn, value: .list(["1"])))
        #expect(c[7] == .init(entity: .tag, key: "t", comparator: .isNull, value: .none))
        #expect(c[8] == .init(entity: .metric, key: "m", comparator: .greaterOrEqual, value: .number(-0.001)))
        #expect(try SearchFilter(nil).comparisons.isEmpty && SearchFilter("  ").comparisons.isEmpty)
    }

    @Test(
        "malformed filters are refused with what is wrong",
        arguments: [
            ("metrics.loss << 1", "expected a value"), ("metrics.loss < 'a'", "compared with a number"),
            ("params.a = 'x' or params.b = 'y'", "no OR"),
            ("params.a = 'unclosed", "not closed"), ("nope.a = 'x'", "not an entity"), ("params.a", "needs a comparator"),
            ("params.a IN 'x'", "needs a list"), ("params.a =", "expected a value"),
        ])
    func refuses(_ text: String, _ expected: String) {
        #expect {
            _ = try SearchFilter(text)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("matching: numbers as numbers, LIKE wildcards, lists, absent keys")
    func matches() throws {
        let fields: (SearchFilter.Entity, String) -> [SearchFilter.Field] = { entity, key in
            switch (entity, key) {
            case (.metric, "loss"): [.number(0.25)]
            case (.param, "lr"): [.string("0.01")]
            case (.tag, "mlflow.runName"): [.string("sklearn-autolog")]
            default: []
            }
        }
        #expect(try SearchFilter("metrics.loss < 0.3 and params.lr = '0.01'").matches(fields))
        #expect(try !SearchFilter("metrics.loss > 0.3").matches(fields))
        #expect(try SearchFilter("tags.`mlflow.runName` LIKE 'sk%-auto_og'").matches(fields))
        #expect(try !SearchFilter("tags.`mlflow.runName` LIKE 'SK%'").matches(fields))
        #expect(try SearchFilter("tags.`mlflow.runName` ILIKE 'SK%'").matches(fields))
        #expect(try SearchFilter("params.lr IN ('0.1', '0.01')").matches(fields))
        #expect(try SearchFilter("tags.missing IS NULL and tags.`mlflow.runName` IS NOT NULL").matches(fields))
        #expect(try !SearchFilter("params.lr != '0.01'").matches(fields))
        let other = try SearchFilter("params.lr != '0.1'")
        #expect(other.matches(fields), "\(other.comparisons)")
        #expect(try !SearchFilter("params.lr NOT IN ('0.01')").matches(absentIsUnequal: true, fields), "a present value is compared")
        #expect(try !SearchFilter("tags.missing != 'x'").matches(fields), "runs without the tag do not match, as in MLflow")
        #expect(try SearchFilter("tags.missing != 'x'").matches(absentIsUnequal: true, fields), "registry searches keep them")
    }

    @Test("order_by terms")
    func orders() throws {
        #expect(try SearchOrder("metrics.rmse DESC") == SearchOrder(entity: .metric, key: "rmse", ascending: false))
        #expect(try SearchOrder("attributes.start_time") == SearchOrder(entity: .attribute, key: "start_time", ascending: true))
        #expect(try SearchOrder("params.`a b` asc") == SearchOrder(entity: .param, key: "a b", ascending: true))
        #expect(throws: SearchSyntaxError.self) { try SearchOrder("metrics.rmse sideways") }
    }
}
