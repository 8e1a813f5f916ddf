// Clusters are real processes; run one test class at a time to keep the machine's two cores for them.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
