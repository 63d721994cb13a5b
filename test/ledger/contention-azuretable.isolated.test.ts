import { contention } from "./contention";

contention("azuretable");
