import { contention } from "./contention";

contention("postgres");
